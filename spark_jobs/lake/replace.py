"""Replace a slice of a Hudi table with freshly computed rows: upsert them, delete what they no longer have."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fhirpulse.core.config import Config
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.faults import crash_point

CONTENT_HASH = "_content_hash"
_STORED_HASH = "_stored_content_hash"
# A scope of up to this many values is broadcast: the table is then filtered as it is read instead of being
# shuffled whole to meet a few changed ids (an increment's scope is small, the table large; BENCHMARKS.md).
# Spark cannot know the scope is small: it comes from a Hudi incremental query, whose size estimate is that of
# the files it reads.
BROADCAST_SCOPE_ROWS = 500_000


def with_content_hash(rows: DataFrame, exclude: Iterable[str]) -> DataFrame:
    """`_content_hash` over every column but `exclude` (run ids, timestamps of the run, ordering fields)."""
    skip = set(exclude) | {CONTENT_HASH}
    content = F.to_json(F.struct(*[F.col(c) for c in rows.columns if c not in skip]))
    return rows.withColumn(CONTENT_HASH, F.sha2(content, 256))


def rows_in_scope(rows: DataFrame, scope: DataFrame, on: str, broadcast_limit: int = BROADCAST_SCOPE_ROWS
                  ) -> DataFrame:
    """The rows whose `on` value is in `scope` (one column, `on`; distinct and persisted by the caller, as it
    is counted here), broadcasting the scope when it has at most `broadcast_limit` values."""
    matched = rows.join(F.broadcast(scope) if scope.count() <= broadcast_limit else scope, on, "left_semi")
    return matched.select(*rows.columns)


def replace_rows(cfg: Config, table: hudi.HudiTable, rows: DataFrame, scope: DataFrame | None, on: str,
                 metadata: dict[str, str], keys_unique: bool = False, keys_in_scope: bool = False
                 ) -> tuple[int, int]:
    """Make the table's slice `scope` (rows whose `on` value is in it; the whole table when None) equal
    `rows`, which carry a `_content_hash`. Returns (written, deleted).

    - rows of the slice whose record key `rows` lacks are deleted (a resource whose view now yields fewer
      rows, a patient with fewer stays);
    - new and changed rows are upserted (a bulk insert when the table is new), and so are all rows of an `on`
      value that lost rows, so that an incremental reader of this table sees every `on` value that changed
      (Hudi's incremental query does not return deletes);
    - unchanged rows are not rewritten: a source re-sent as it was makes no commit downstream.
    `keys_unique`: the caller knows `rows` has one row per record key (a first load then skips Hudi's
    dedupe); later writes are deduped here anyway.
    `keys_in_scope`: a record key determines its `on` value (silver's row keys begin with the resource id),
    so a key absent from the slice is absent from the table: a write of such keys only is an insert, which
    skips Hudi's index lookup (always true without a scope: the slice is the whole table)."""
    spark = rows.sparkSession
    keys = list(table.record_key)
    if not timeline.completed_commits(cfg, table):
        written = rows.count()
        if written:
            hudi.write(rows, cfg, table, hudi.write_operation(table_has_data=False), metadata, keys_unique=keys_unique)
        return written, 0
    # Only what the comparison needs: keys, the slice column and the hash (the table's other columns are
    # never read, and a delete needs only the keys).
    narrow = list(dict.fromkeys([*keys, *table.partition_by, on, CONTENT_HASH]))
    current = hudi.read(spark, cfg, table).select(*narrow)
    if scope is not None:
        scope = scope.select(on).distinct().persist()
        current = rows_in_scope(current, scope, on)
    current = current.persist()
    stale = current.join(rows.select(*keys), keys, "left_anti").persist()
    stored = current.select(*keys, F.col(CONTENT_HASH).alias(_STORED_HASH))
    compared = rows.join(stored, keys, "left")
    changed = compared.where(~F.col(_STORED_HASH).eqNullSafe(F.col(CONTENT_HASH))).unionByName(
        compared.join(stale.select(on).distinct(), on, "left_semi")).dropDuplicates(keys)
    # A join on column names moves them to the front: restore the order, or the catalog fingerprint
    # changes and every incremental write re-syncs the Glue entry.
    changed = changed.select(*rows.columns, _STORED_HASH).persist()
    written, stored_keys = changed.agg(F.count(F.lit(1)), F.count(_STORED_HASH)).first()
    deleted = stale.count()
    if written:
        new_keys_only = stored_keys == 0 and (keys_in_scope or scope is None)
        hudi.write(changed.drop(_STORED_HASH), cfg, table, hudi.write_operation(True, new_keys_only), metadata,
                   keys_unique=True)  # deduped just above
    if deleted:
        crash_point(f"{table.layer}_after_upsert")  # the upsert committed, the delete of stale rows not yet
        hudi.delete_rows(stale, cfg, table, metadata)
    for frame in (changed, stale, current, scope):
        if frame is not None:
            frame.unpersist()
    return written, deleted
