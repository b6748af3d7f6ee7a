"""Replace a slice of a Hudi table with freshly computed rows: upsert them, delete what they no longer have."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fhirpulse.core.config import Config
from spark_jobs.lake import hudi
from spark_jobs.lake.faults import crash_point

CONTENT_HASH = "_content_hash"


def with_content_hash(rows: DataFrame, exclude: Iterable[str]) -> DataFrame:
    """`_content_hash` over every column but `exclude` (run ids, timestamps of the run, ordering fields)."""
    skip = set(exclude) | {CONTENT_HASH}
    content = F.to_json(F.struct(*[F.col(c) for c in rows.columns if c not in skip]))
    return rows.withColumn(CONTENT_HASH, F.sha2(content, 256))


def replace_rows(cfg: Config, table: hudi.HudiTable, rows: DataFrame, scope: DataFrame | None, on: str,
                 metadata: dict[str, str]) -> tuple[int, int]:
    """Make the table's slice `scope` (rows whose `on` value is in it; the whole table when None) equal
    `rows`, which carry a `_content_hash`. Returns (written, deleted).

    - rows of the slice whose record key `rows` lacks are deleted (a resource whose view now yields fewer
      rows, a patient with fewer stays);
    - new and changed rows are upserted (a bulk insert when the table is new), and so are all rows of an `on`
      value that lost rows, so that an incremental reader of this table sees every `on` value that changed
      (Hudi's incremental query does not return deletes);
    - unchanged rows are not rewritten: a source re-sent as it was makes no commit downstream."""
    spark = rows.sparkSession
    keys = list(table.record_key)
    if not hudi.completed_commits(spark, cfg, table):
        written = rows.count()
        if written:
            hudi.write(rows, cfg, table, "bulk_insert", metadata)
        return written, 0
    current = hudi.read(spark, cfg, table)
    if scope is not None:
        current = current.join(scope, on, "left_semi")
    current = current.drop(*hudi.HOODIE_META_COLUMNS).persist()
    stale = current.join(rows.select(*keys), keys, "left_anti").persist()
    changed = rows.join(current.select(*keys, CONTENT_HASH), [*keys, CONTENT_HASH], "left_anti").unionByName(
        rows.join(stale.select(on).distinct(), on, "left_semi")).dropDuplicates(keys).persist()
    written, deleted = changed.count(), stale.count()
    if written:
        hudi.write(changed, cfg, table, "upsert", metadata)
    if deleted:
        crash_point(f"{table.layer}_after_upsert")  # the upsert committed, the delete of stale rows not yet
        hudi.delete_rows(stale, cfg, table, metadata)
    for frame in (changed, stale, current):
        frame.unpersist()
    return written, deleted
