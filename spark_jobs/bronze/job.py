"""The generic bronze job: every new raw object -> one Hudi table per resource type + quarantine + audit.

Order of effects, which is what makes a crash at any point recoverable:
  1. claim the new files in the ledger (PENDING, conditional);
  2. write each resource type's rows (one Hudi commit per table, tagged with the run id), then quarantine;
  3. mark each file COMMITTED with its counts and the commit instants that hold it;
  4. write the audit row.
A run killed before 3 leaves PENDING files; the next run re-reads them and upserts (idempotent by resource
id, newest meta.lastUpdated wins), so nothing is lost or duplicated.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fhirpulse.core.config import Config
from spark_jobs.bronze import records, sources
from spark_jobs.bronze.ledger import COMMITTED, FileOutcome, Ledger
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.audit import AuditRecord
from spark_jobs.lake.lifecycle import NOTHING_NEW, JobRun
from spark_jobs.lake.session import session_conf
from spark_jobs.lake.tables import BRONZE, quarantine_table, resource_table, resource_table_name

LAYER = BRONZE
# Concurrent table writes: Spark still runs two tasks at a time on local[2]; the threads let small tables'
# fixed latency (timeline, commit, catalog sync) overlap with the large tables' Spark work.
WRITE_THREADS = 6


class BronzeError(RuntimeError):
    """An inconsistency the run cannot go past; the lifecycle records it and raises JobError."""


def _new_objects(cfg: Config, ledger: Ledger) -> tuple[list[sources.RawObject], int]:
    listed = sources.list_raw_objects(cfg)
    done = {k for k, status in ledger.statuses(listed).items() if status == COMMITTED}
    return [o for o in listed if (o.key, o.content_version) not in done], len(listed)


def new_raw_bytes(cfg: Config) -> int:
    """Bytes of the raw objects not yet COMMITTED: what the next bronze run reads."""
    todo, _ = _new_objects(cfg, Ledger(cfg))
    return sum(o.size for o in todo)


def _sniff_all(cfg: Config, objects: list[sources.RawObject]) -> list[sources.RawObject]:
    with ThreadPoolExecutor(max_workers=8) as pool:  # one ranged GET each; I/O bound
        return list(pool.map(lambda o: sources.sniff(cfg, o), objects))


def _file_counts(numbered: DataFrame) -> tuple[dict[tuple[str, str], tuple[FileOutcome, set[str]]], Counter]:
    """One small aggregation: per file its counts and the resource types it fed; rows per resource type."""
    rows = records.per_file_counts(numbered).collect()
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    types: dict[tuple[str, str], set[str]] = defaultdict(set)
    rows_per_type: Counter = Counter()
    for row in rows:
        if row.content_version is None:
            raise BronzeError(f"read a path that matches no listed object: {row.source_file}")
        key = (row.source_file, row.content_version)
        totals[key][0] += row.records
        totals[key][1] += row.bronze_rows
        if row.bronze_rows and row.resource_type:
            types[key].add(row.resource_type)
            rows_per_type[row.resource_type] += row.bronze_rows
    return {key: (FileOutcome(n, b, n - b), types[key]) for key, (n, b) in totals.items()}, rows_per_type


def _types_with_repeated_ids(numbered: DataFrame, resource_types: list[str]) -> set[str]:
    """Those of `resource_types` in which some accepted id occurs more than once in this run (only ids
    are shuffled)."""
    if not resource_types:
        return set()
    accepted = numbered.where(F.col("quarantine_reason").isNull() & F.col("resource_type").isin(*resource_types))
    repeated = accepted.groupBy("resource_type", "id").count().where(F.col("count") > 1)
    return {row.resource_type for row in repeated.select("resource_type").distinct().collect()}


def _write_tables(run: JobRun, numbered: DataFrame, resource_types: list[str],
                  any_quarantined: bool) -> dict[str, str]:
    """One Hudi commit per resource type present, and one for quarantine; returns table -> commit instant.

    Tables are written concurrently: a small table's write is mostly fixed latency (timeline, commit,
    Glue sync), which overlaps with the large ones' Spark work.
    """
    cfg = run.cfg
    bronze = records.bronze_rows(numbered)
    writes = [(resource_table(t), bronze.where(F.col("resource_type") == t), t) for t in resource_types]
    if any_quarantined:
        writes.append((quarantine_table(cfg), records.quarantine_rows(numbered), None))
    operations = {table.name: hudi.operation_for(cfg, table) for table, _, _ in writes}
    # A first load (bulk_insert) skips Hudi's dedupe shuffle where this run's ids are known to be unique;
    # upserts dedupe as part of their own shuffle anyway.
    repeated = _types_with_repeated_ids(numbered, [t for table, _, t in writes
                                                   if t and operations[table.name] == "bulk_insert"])

    def write_one(table: hudi.HudiTable, rows: DataFrame, resource_type: str | None) -> tuple[str, str]:
        hudi.write(rows, cfg, table, operations[table.name], {"run_id": run.run_id},
                   keys_unique=(operations[table.name] == "bulk_insert" and resource_type is not None
                                and resource_type not in repeated))
        instant = timeline.completed_commits(cfg, table)[-1]
        run.event("table_committed", table=table.name, instant=instant)
        run.first_crash_point("after_first_table")
        return table.name, instant

    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        return dict(pool.map(lambda write: write_one(*write), writes))


def _classify(run: JobRun, readable: list[sources.RawObject]) -> tuple[DataFrame, DataFrame]:
    """Read every readable object once into cached classified rows; returns (cache, numbered rows)."""
    spark = run.spark  # started before any Column is built: F.lit needs an active SparkContext
    ingested_at = F.lit(datetime.now(UTC)).cast("timestamp")
    # The cache is mostly unique JSON text, which columnar compression cannot shrink but spends time
    # trying: this one cache is built uncompressed.
    with session_conf(spark, {"spark.sql.inMemoryColumnarStorage.compressed": "false"}):
        classified = records.unpack_and_classify(
            sources.read_records(spark, run.cfg, readable), run.run_id, ingested_at,
            run.cfg.bronze.max_record_bytes,
        ).persist(StorageLevel.MEMORY_AND_DISK)
        # The one scan of the raw text happens here, filling the cache; numbering only reads the cache.
        numbered = records.number_lines(classified, records.line_offsets(classified).localCheckpoint())
    return classified, numbered


def _ingest(run: JobRun, ledger: Ledger, todo: list[sources.RawObject]) -> None:
    """Claim, read, write and commit `todo`; on any error the claimed files end FAILED in the ledger."""
    claimed: list[sources.RawObject] = []
    try:
        # Claim before sniffing, so that an unreadable file ends FAILED in the ledger with its error.
        claimed = [o for o in todo if ledger.claim(o, run.run_id)]
        run.audit.files = len(claimed)
        run.event("claimed", files=len(claimed))
        run.crash_point("after_claim")
        claimed = _sniff_all(run.cfg, claimed)
        read_started = time.monotonic()
        classified, numbered = _classify(run, [o for o in claimed if o.fmt != "empty"])
        per_file, rows_per_type = _file_counts(numbered)
        resource_types = [t for t, _ in rows_per_type.most_common()]  # largest first: best overlap
        run.event("classified", files=len(per_file), records=sum(o.records for o, _ in per_file.values()),
                  types=resource_types, seconds=round(time.monotonic() - read_started, 1))
        any_quarantined = any(outcome.quarantined for outcome, _ in per_file.values())
        run.crash_point("before_write")
        commits = _write_tables(run, numbered, resource_types, any_quarantined)
        run.crash_point("after_commit")
        classified.unpersist()
    except Exception as err:
        for obj in claimed:
            ledger.fail(obj, run.run_id, f"{type(err).__name__}: {err}")
        raise
    _commit_files(run, ledger, claimed, per_file, commits)


def _commit_files(run: JobRun, ledger: Ledger, claimed: list[sources.RawObject],
                  per_file: dict[tuple[str, str], tuple[FileOutcome, set[str]]], commits: dict[str, str]) -> None:
    """Mark each file COMMITTED with its counts and the commits that hold it; add up the audit counts."""
    quarantine_name = run.cfg.bronze.quarantine_table
    for obj in claimed:
        outcome, types = per_file.get((sources.object_uri(run.cfg, obj.key), obj.content_version),
                                      (FileOutcome(0, 0, 0), set()))
        file_commits = {t: commits[t] for t in map(resource_table_name, types)}
        if outcome.quarantined:
            file_commits[quarantine_name] = commits[quarantine_name]
        ledger.commit(obj, run.run_id, outcome, file_commits)
        run.crash_point("after_first_file")  # mid-way through the ledger updates
        run.event("file", file=obj.key, content_version=obj.content_version, format=obj.fmt, gzip=obj.gzip,
                  records=outcome.records, bronze_rows=outcome.bronze_rows, quarantined=outcome.quarantined,
                  status=COMMITTED)
        run.audit.records_in += outcome.records
        run.audit.rows_out += outcome.bronze_rows
        run.audit.quarantined += outcome.quarantined
    run.audit.tables = sorted(commits)


def run_bronze(cfg: Config, session: Callable[[], SparkSession], run_id: str | None = None) -> AuditRecord:
    """Ingest every raw object not yet COMMITTED in the ledger. Returns the run's audit record; raises
    JobError (after recording the failure in the ledger and the audit table) when the run fails."""
    with JobRun(cfg, LAYER, session, run_id) as run:
        ledger = Ledger(cfg)
        todo, listed = _new_objects(cfg, ledger)
        run.event("listed", raw_uri=cfg.s3.raw_uri, objects=listed, new=len(todo))
        if todo:
            _ingest(run, ledger, todo)
        else:
            run.finish(NOTHING_NEW)
    return run.audit
