"""The generic silver job: every ViewDefinition in `silver.views_dir` -> one Hudi table in the silver database.

Per view, incremental on the bronze table of the view's resource type:
  1. read what bronze committed since the view's checkpoint (a Hudi incremental query; all of it with --full);
  2. run the view over it, add the view's named transformations, a row key and the data-quality flags;
  3. upsert the rows, then delete the table's rows of the same resources that the new rows no longer have
     (an updated resource with fewer `forEach` repeats, or one that left the view's `where`);
  4. move the checkpoint to the bronze commit read up to.
A crash before 4 makes the next run read the same changes again; steps 3 are idempotent.

Views are refreshed concurrently, as bronze's table writes are: a small table's refresh is mostly fixed
latency (timeline, commit, catalog check), which overlaps with the large tables' Spark work. The patients
the other views' rows are checked against come from the patient view over bronze (see `known_patients`),
so no view waits for another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fhirpulse.core import aws
from fhirpulse.core.config import REPO_ROOT, Config
from fhirpulse.core.config.fields import GlueName
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.audit import AuditRecord
from spark_jobs.lake.checkpoints import read_checkpoint, write_checkpoint
from spark_jobs.lake.lifecycle import NOTHING_NEW, JobRun
from spark_jobs.lake.replace import replace_rows, with_content_hash
from spark_jobs.lake.tables import SILVER, resource_table, silver_table
from spark_jobs.silver import transforms
from spark_jobs.sof import CompiledView, ViewDefinitionError, compile_view

LAYER = SILVER
PATIENT_VIEW = "patient"
# Views refreshed at once (each thread mostly waits on the JVM or the object store).
REFRESH_THREADS = 5
# What silver keeps from bronze next to every row.
_BRONZE_KEEP = {"last_updated": "_last_updated", "_hoodie_commit_time": "_bronze_commit"}
# Named transformations per view, for what a ViewDefinition cannot express.
VIEW_TRANSFORMS: dict[str, list[Callable[[DataFrame], DataFrame]]] = {
    "encounter": [transforms.with_encounter_times,
                  partial(transforms.with_conditional_reference, reference="service_provider_reference",
                          target="service_provider_identifier")],
}


@dataclass(frozen=True)
class SilverView:
    name: str
    definition: dict

    @property
    def resource(self) -> str:
        return self.definition["resource"]


def view_files(cfg: Config) -> list[tuple[str, str]]:
    """(where, text) of every `*.json` in `silver.views_dir`: a folder of the checkout, an absolute folder, or
    an `s3://bucket/prefix` (on Glue, where Terraform uploads config/views)."""
    location = cfg.silver.views_dir
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        prefix = prefix.strip("/") + "/"
        s3 = aws.client(cfg, "s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        keys = sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".json"))
        return [(f"s3://{bucket}/{key}", s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
                for key in keys]
    folder = Path(location) if Path(location).is_absolute() else REPO_ROOT / location
    return [(str(path), path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def load_views(cfg: Config) -> list[SilverView]:
    """Every ViewDefinition of `silver.views_dir`, the patient view first, then by name."""
    from pydantic import TypeAdapter, ValidationError

    views = []
    for where, text in view_files(cfg):
        try:
            definition = json.loads(text)
        except ValueError as err:
            raise ViewDefinitionError(f"{where}: not valid JSON: {err}") from None
        name = definition.get("name") if isinstance(definition, dict) else None
        try:
            TypeAdapter(GlueName).validate_python(name)
        except ValidationError:
            raise ViewDefinitionError(f"{where}: `name` must be a table name (lowercase, digits, _), "
                                      f"got {name!r}") from None
        views.append(SilverView(name, definition))
    folder = cfg.silver.views_dir
    if not views:
        raise ViewDefinitionError(f"{folder}: no ViewDefinitions (*.json) found (silver.views_dir)")
    names = [v.name for v in views]
    if len(set(names)) != len(names):
        raise ViewDefinitionError(f"{folder}: two views share a name: {sorted(names)}")
    return sorted(views, key=lambda v: (v.name != PATIENT_VIEW, v.name))


def view_rows(compiled: CompiledView, view_name: str, bronze: DataFrame, run_id: str,
              patient_ids: DataFrame | None) -> DataFrame:
    """Bronze rows -> the silver table's rows: the view, its transformations, row key, flags, run id."""
    source = bronze.select("resource_type", "raw_json", *[F.col(b).alias(s) for b, s in _BRONZE_KEEP.items()])
    rows = compiled.apply(source, keep=list(_BRONZE_KEEP.values()))
    columns = [c.name for c in compiled.columns]
    if "id" not in columns:
        raise ViewDefinitionError(f"silver view '{view_name}' needs an `id` column (getResourceKey())")
    for transform in VIEW_TRANSFORMS.get(view_name, []):
        rows = transform(rows)
    rows = transforms.with_row_key(rows, "id", columns, one_per_resource=compiled.rows.one is not None)
    rows = transforms.with_quality_flags(rows, view_name, patient_ids)
    return with_content_hash(rows, exclude=["_row_key", "_bronze_commit"]).withColumn("_run_id", F.lit(run_id))


def known_patients(run: JobRun, views: list[SilverView], compiled: dict[str, CompiledView]) -> DataFrame | None:
    """Ids of the patient view over bronze's newest Patient snapshot: what the silver patient table holds once
    this run is done, known without waiting for it (None when there is no patient view or no patient yet).
    Lazy and cached: built once, by the first view that needs it."""
    view = next((v for v in views if v.name == PATIENT_VIEW), None)
    if view is None:
        return None
    source = resource_table(view.resource)
    commits = timeline.completed_commits(run.cfg, source)
    if not commits:
        return None
    snapshot = hudi.read_changes(run.spark, run.cfg, source, None, commits[-1]).select("resource_type", "raw_json")
    return compiled[PATIENT_VIEW].apply(snapshot).select("id").distinct().persist()


def compile_views(views: list[SilverView]) -> dict[str, CompiledView]:
    """Every view compiled before any is refreshed, so a broken view fails the run even when bronze has
    nothing new (the error names the view)."""
    compiled = {}
    for view in views:
        try:
            compiled[view.name] = compile_view(view.definition)
        except ViewDefinitionError as err:
            raise ViewDefinitionError(f"silver view '{view.name}': {err}") from None
    return compiled


def refresh_view(run: JobRun, view: SilverView, compiled: CompiledView, full: bool,
                 patient_ids: DataFrame | None = None) -> dict | None:
    """Bring one silver table up to its bronze table's newest commit; None when there was nothing to do.
    `patient_ids`: the known patients, for the `unknown_patient` flag (none checked when None)."""
    spark, cfg = run.spark, run.cfg
    source = resource_table(view.resource)
    commits = timeline.completed_commits(cfg, source)
    since = None if full else read_checkpoint(cfg, LAYER, view.name).get("bronze")
    if not commits or since == commits[-1]:
        return None
    until = commits[-1]
    changed = hudi.read_changes(spark, cfg, source, since, until)
    rows = view_rows(compiled, view.name, changed, run.run_id, patient_ids)
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    changed_ids = None if since is None else changed.select("id")  # replace_rows takes the distinct ids
    run.crash_point("before_write")
    # A view with one row per resource keys it by the resource id: unique in a bronze snapshot or change set.
    written, removed = replace_rows(cfg, silver_table(view.name), rows, changed_ids, "id",
                                    {"run_id": run.run_id, "bronze_until": until},
                                    keys_unique=compiled.rows.one is not None, keys_in_scope=True)
    flags = {r["flag"]: r["count"] for r in rows.select(F.explode("dq_flags").alias("flag"))
             .groupBy("flag").count().collect()}
    rows.unpersist()
    run.crash_point("after_commit")
    write_checkpoint(cfg, LAYER, view.name, {"bronze": until}, run.run_id)
    run.first_crash_point("after_first_view")
    run.event("table_refreshed", table=view.name, bronze_since=since, bronze_until=until, rows=written,
              stale_deleted=removed, quality_flags=flags)
    return {"rows": written, "stale_deleted": removed, "quality_flags": flags, "bronze_until": until}


def run_silver(cfg: Config, session: Callable[[], SparkSession], full: bool = False,
               run_id: str | None = None) -> AuditRecord:
    """Refresh every silver table from what bronze committed since its checkpoint (everything with
    `full`). Returns the run's audit record; raises JobError when the run fails."""
    with JobRun(cfg, LAYER, session, run_id) as run:
        views = load_views(cfg)  # inside the run: a broken view is a FAILED run in the audit
        run.spark  # noqa: B018 - starts the session: pyspark builds no Column (compiling) without an active one
        compiled = compile_views(views)
        outcomes = _refresh_all(run, views, compiled, full)
        run.audit.tables = sorted(outcomes)
        run.audit.rows_out = sum(o["rows"] for o in outcomes.values())
        run.audit.details.update(full=full, tables=outcomes, quality_flags=_total_flags(outcomes.values()))
        if not outcomes:
            run.finish(NOTHING_NEW)
    return run.audit


def _refresh_all(run: JobRun, views: list[SilverView], compiled: dict[str, CompiledView],
                 full: bool) -> dict[str, dict]:
    """Refresh every view concurrently; name -> outcome of those that changed."""
    patient_ids = known_patients(run, views, compiled)

    def refresh(view: SilverView) -> dict | None:
        ids = patient_ids if view.name != PATIENT_VIEW else None
        return refresh_view(run, view, compiled[view.name], full, ids)

    try:
        with ThreadPoolExecutor(max_workers=REFRESH_THREADS, thread_name_prefix="silver-view") as pool:
            results = list(zip([v.name for v in views], pool.map(refresh, views), strict=True))
    finally:
        if patient_ids is not None:
            patient_ids.unpersist()
    return {name: outcome for name, outcome in results if outcome is not None}


def _total_flags(outcomes) -> dict[str, int]:
    totals: dict[str, int] = {}
    for outcome in outcomes:
        for flag, count in outcome["quality_flags"].items():
            totals[flag] = totals.get(flag, 0) + count
    return totals
