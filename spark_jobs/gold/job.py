"""The gold job: silver encounters, patients, conditions, organizations -> stays with KPI flags, and KPI tables.

Incremental: only the patients whose silver rows changed since the last run are recomputed, plus those whose
stays enter or leave the readmission censoring window when the measurement end moves; a change of the
organizations (hospital resolution) recomputes everyone. Their stay rows are upserted and their vanished
stays deleted; the KPI table (month x hospital x age band, numerators and denominators) is rebuilt from every
stay (the stays table with this run's stays in place of the touched patients', which is small) and written
alongside. `--full` recomputes every patient and gives the same tables.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fhirpulse.core.config import Config
from spark_jobs.gold.stays import (
    flag_stays,
    inpatient_stays,
    kpi_groups,
    measurement_end,
    stay_base,
)
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.audit import AuditRecord
from spark_jobs.lake.checkpoints import read_checkpoint, write_checkpoint
from spark_jobs.lake.lifecycle import NOTHING_NEW, JobRun
from spark_jobs.lake.replace import replace_rows, rows_in_scope, with_content_hash
from spark_jobs.lake.tables import GOLD, KPI_KEYS, kpi_table, silver_table, stays_table

LAYER = GOLD
SOURCES = ("encounter", "patient", "condition", "organization")
# The silver columns gold reads, so that an absent table can stand in as an empty frame.
_SOURCE_COLUMNS = {
    "patient": "id string, birth_date string, deceased_date_time string",
    "condition": "id string, patient_id string, code_system string, code string, onset string",
    "organization": "id string, identifier_system string, identifier_value string",
}


def latest_silver_instants(cfg: Config) -> dict[str, str]:
    """The newest completed commit of each silver table gold reads (those that exist)."""
    out = {}
    for name in SOURCES:
        commits = timeline.completed_commits(cfg, silver_table(name))
        if commits:
            out[name] = commits[-1]
    return out


def _snapshot(spark: SparkSession, cfg: Config, name: str, instants: dict[str, str]) -> DataFrame:
    if name in instants:
        return hudi.read_changes(spark, cfg, silver_table(name), None, instants[name])
    return spark.createDataFrame([], _SOURCE_COLUMNS[name])


def _touched_patients(run: JobRun, since: dict[str, str], instants: dict[str, str]) -> DataFrame:
    """Ids of the patients whose encounter, condition or patient rows changed after `since`."""
    spark, cfg = run.spark, run.cfg
    parts = []
    for name, column in (("encounter", "patient_id"), ("condition", "patient_id"), ("patient", "id")):
        if name in instants and since.get(name) != instants[name]:
            changed = hudi.read_changes(spark, cfg, silver_table(name), since.get(name), instants[name])
            parts.append(changed.select(F.col(column).alias("patient_id")))
    if not parts:
        return spark.createDataFrame([], "patient_id string")
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("patient_id").isNotNull()).distinct()


def _censoring_moved(encounters: DataFrame, old_end: str | None, new_end: datetime | None,
                     window_days: int) -> DataFrame:
    """Patients with a stay ending between the old and the new censoring cutoff (their index flag may change)."""
    if old_end is None or new_end is None:
        return encounters.select("patient_id").where(F.lit(False))
    bounds = sorted([datetime.fromisoformat(old_end), new_end])
    low, high = (F.lit(b).cast("timestamp") - F.expr(f"INTERVAL {window_days} DAYS") for b in bounds)
    return encounters.where((F.col("end_ts") > low) & (F.col("end_ts") <= high)).select("patient_id")


def _stamp(rows: DataFrame, run: JobRun, computed_at: datetime) -> DataFrame:
    return with_content_hash(rows, exclude=()).withColumn("_run_id", F.lit(run.run_id)).withColumn(
        "_computed_at", F.lit(computed_at))


def _all_stays(run: JobRun, facts: DataFrame, touched: DataFrame | None) -> DataFrame:
    """Every stay once this run's `facts` replace those of the `touched` patients (all of them when None):
    what the stays table holds after the write, known before it, so the KPI table need not wait for it.
    A stored stay is kept unless its patient is touched or `facts` has its key (its patient changed)."""
    table = stays_table(run.cfg)
    if touched is None or not timeline.completed_commits(run.cfg, table):
        return facts
    kept = (hudi.read(run.spark, run.cfg, table).join(touched, "patient_id", "left_anti")
            .join(facts.select("encounter_id"), "encounter_id", "left_anti"))
    return kept.select(*facts.columns).unionByName(facts)


def refresh(run: JobRun, full: bool) -> dict | None:
    cfg = run.cfg
    instants = latest_silver_instants(cfg)
    checkpoint = {} if full else read_checkpoint(cfg, LAYER, cfg.gold.stays_table)
    if "encounter" not in instants or checkpoint.get("silver") == instants:
        return None  # decided without Spark: a run with nothing to do starts none
    spark = run.spark
    encounters = _snapshot(spark, cfg, "encounter", instants)
    period_end = measurement_end(inpatient_stays(encounters), cfg.gold)
    since = checkpoint.get("silver", {})
    everyone = full or not since or since.get("organization") != instants.get("organization")
    touched = None if everyone else _touched_patients(run, since, instants).unionByName(
        _censoring_moved(encounters, checkpoint.get("period_end"), period_end, cfg.gold.readmission_window_days)
    ).distinct().localCheckpoint()
    sources = {name: _snapshot(spark, cfg, name, instants) for name in ("patient", "condition", "organization")}
    scoped = {"encounter": encounters, "condition": sources["condition"],
              "patient": sources["patient"].withColumnRenamed("id", "patient_id")}
    if touched is not None:
        scoped = {name: rows_in_scope(df, touched, "patient_id") for name, df in scoped.items()}
    computed_at = datetime.now(UTC)
    # Materialized once with their lineage cut (localCheckpoint): every later action on a frame that still
    # carried the stay-facts plan planned all of it again, which was most of an incremental run's time
    # (BENCHMARKS.md). They are a few rows per stay or group. The stay base is read three times by the
    # flags, so it is materialized too.
    # `groups` is computed here, before the stays writer changes the stays table it reads.
    base = stay_base(scoped["encounter"], scoped["patient"].withColumnRenamed("patient_id", "id"),
                     sources["organization"], cfg.gold, period_end).localCheckpoint()
    facts = flag_stays(base, scoped["condition"], cfg.gold)
    facts = _stamp(facts, run, computed_at).localCheckpoint()
    metadata = {"run_id": run.run_id}
    groups = _stamp(kpi_groups(_all_stays(run, facts, touched)), run, computed_at).localCheckpoint()
    run.crash_point("before_write")

    # One row per stay (encounter) and per KPI group: the keys are unique by construction. The two tables
    # are written concurrently (each write is mostly fixed latency).
    def write(table: hudi.HudiTable, rows: DataFrame, scope: DataFrame | None, on: str) -> tuple[int, int]:
        counts = replace_rows(cfg, table, rows, scope, on, metadata, keys_unique=True)
        run.first_crash_point("after_first_table")
        return counts

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gold-table") as pool:
        stays = pool.submit(write, stays_table(cfg), facts, touched, "patient_id")
        kpis = pool.submit(write, kpi_table(cfg), groups, None, KPI_KEYS[0])
        (stays_written, stays_deleted), (groups_written, groups_deleted) = stays.result(), kpis.result()
    run.crash_point("after_commit")
    write_checkpoint(cfg, LAYER, cfg.gold.stays_table, {
        "silver": instants, "period_end": period_end.isoformat() if period_end else None}, run.run_id)
    outcome = {"patients": "all" if touched is None else touched.count(), "stays_written": stays_written,
               "stays_deleted": stays_deleted, "kpi_groups": groups_written, "kpi_groups_deleted": groups_deleted,
               "measurement_end": period_end.isoformat() if period_end else None, "silver": instants}
    run.event("refreshed", **outcome)
    return outcome


def run_gold(cfg: Config, session: Callable[[], SparkSession], full: bool = False,
             run_id: str | None = None) -> AuditRecord:
    """Recompute the stays of the patients silver changed (everyone with `full`) and the KPI table."""
    with JobRun(cfg, LAYER, session, run_id) as run:
        outcome = refresh(run, full)
        if outcome is None:
            run.finish(NOTHING_NEW)
        else:
            run.audit.rows_out = outcome["stays_written"]
            run.audit.tables = [cfg.gold.stays_table, cfg.gold.kpi_table]
            run.audit.details.update(full=full, **outcome)
    return run.audit
