"""Hudi write options and the one writer every layer uses, and the readers (snapshot, incremental).

Tables are Copy-on-Write at table version 6 (Hudi 0.15.0's own), so Trino 476 and Athena read them. `write`
commits, then keeps the table's Glue catalog entry current (`catalog_sync`). Measured costs and gains:
BENCHMARKS.md.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from fhirpulse.core.config import Config
from spark_jobs.lake import catalog_sync
from spark_jobs.lake.tables import HudiTable
from spark_jobs.lake.timeline import completed_commits

__all__ = ["HOODIE_META_COLUMNS", "HudiTable", "delete_rows", "operation_for", "read", "read_changes", "write",
           "write_operation", "write_options"]


def write_options(cfg: Config, table: HudiTable, operation: str, keys_unique: bool = False) -> dict[str, str]:
    if operation not in ("upsert", "bulk_insert", "insert", "delete"):
        raise ValueError(f"unknown Hudi operation {operation!r}")
    options = {
        "hoodie.table.name": table.name,
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": operation,
        "hoodie.datasource.write.recordkey.field": ",".join(table.record_key),
        "hoodie.datasource.write.precombine.field": table.precombine,
        "hoodie.datasource.write.partitionpath.field": ",".join(table.partition_by),
        "hoodie.datasource.write.keygenerator.class": (
            "org.apache.hudi.keygen.ComplexKeyGenerator" if table.partition_by or len(table.record_key) > 1
            else "org.apache.hudi.keygen.NonpartitionedKeyGenerator"),
        "hoodie.datasource.write.hive_style_partitioning": "true",
        # Table version 6 is what Hudi 0.15.0 writes; stated so an upgrade cannot silently move it.
        "hoodie.write.table.version": "6",
        # The metadata table roughly doubles small writes and Trino does not need it here.
        "hoodie.metadata.enable": "false",
        # The Glue sync runs after the write, by `write` (Hudi's in-write sync waits for its client to close).
        "hoodie.datasource.meta.sync.enable": "false",
        # A write must still keep one row per key: unless the caller knows the keys are unique, Hudi dedupes
        # first (a full shuffle of the rows).
        "hoodie.combine.before.insert": str(not keys_unique).lower(),
        "hoodie.combine.before.upsert": str(not keys_unique).lower(),
        # Small commits are mostly fixed latency, which these three cut: markers written directly instead
        # of through an embedded timeline server started for every write, and a clean planned every 10
        # commits instead of after each one (Copy-on-Write keeps 10 commits' file versions either way).
        "hoodie.embed.timeline.server": "false",
        "hoodie.write.markers.type": "DIRECT",
        "hoodie.clean.max.commits": "10",
        # New rows of an upsert go to files under 8 MB (Hudi's default, 100 MB, makes every file of these
        # tables "small": each increment rewrote a large file to append a few rows), else to a new file.
        "hoodie.parquet.small.file.limit": str(8 * 1024 * 1024),
        # Bloom filters in the file footers rule most files out for a key: an upsert of new rows reads no
        # file's keys (the simple index read every key of the table).
        "hoodie.index.type": "BLOOM",
        # zstd: fewer bytes than snappy on raw FHIR JSON for the same write CPU, so less to upload; Hudi's
        # default gzip writes slower. Athena, Trino and Glue all read zstd Parquet.
        "hoodie.parquet.compression.codec": "zstd",
        "hoodie.upsert.shuffle.parallelism": str(cfg.spark.shuffle_partitions),
        "hoodie.insert.shuffle.parallelism": str(cfg.spark.shuffle_partitions),
        "hoodie.bulkinsert.shuffle.parallelism": str(cfg.spark.shuffle_partitions),
        "hoodie.datasource.write.reconcile.schema": "false",
        # Upserts keep the stored row when it is newer than the incoming one (the default payload would
        # let a late re-upload of old content overwrite newer data).
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.DefaultHoodieRecordPayload",
        "hoodie.payload.ordering.field": table.precombine,
    }
    return options | dict(table.extra)


def write(df: DataFrame, cfg: Config, table: HudiTable, operation: str = "upsert",
          commit_metadata: dict[str, str] | None = None, keys_unique: bool = False) -> None:
    """Write `df` to the table (created on first write), then sync it to the Glue catalog when needed (by
    `sync_catalog`, not inside the write: Hudi's in-write sync waits for its Glue client to close)."""
    fingerprint = catalog_sync.catalog_fingerprint(cfg, table, df)
    # A delete cannot change the catalog entry (and its rows may carry only the keys).
    needs_sync = operation != "delete" and not catalog_sync.catalog_is_current(cfg, table, df, fingerprint)
    writer = df.write.format("hudi").options(**write_options(cfg, table, operation, keys_unique))
    for key, value in (commit_metadata or {}).items():
        # Extra metadata lands in the commit file: ties a commit to a run id and source files.
        writer = writer.option(f"hoodie.fhirpulse.{key}", value)
    writer.option("hoodie.datasource.write.commitmeta.key.prefix", "hoodie.fhirpulse.").mode("append").save(
        table.path(cfg))
    if needs_sync:
        catalog_sync.sync_catalog(df.sparkSession, cfg, table, fingerprint)
        catalog_sync.ensure_catalog_columns(df, cfg, table, fingerprint)


def read(spark, cfg: Config, table: HudiTable):
    """The table's latest snapshot. Refreshes Spark's cached file listing first: another process (or job)
    may have committed since this session last listed the table."""
    path = table.path(cfg)
    spark.catalog.refreshByPath(path)
    return spark.read.format("hudi").load(path)


HOODIE_META_COLUMNS = ("_hoodie_commit_time", "_hoodie_commit_seqno", "_hoodie_record_key",
                       "_hoodie_partition_path", "_hoodie_file_name")


def read_changes(spark, cfg: Config, table: HudiTable, since: str | None, until: str) -> DataFrame:
    """Rows written by the table's commits in (since, until]: a Hudi incremental query, or the whole snapshot
    as of `until` when `since` is None. Where the cleaner already removed files of commits after `since`,
    Hudi falls back to a full scan of the range (no change is missed)."""
    path = table.path(cfg)
    spark.catalog.refreshByPath(path)
    if since is None:
        return spark.read.format("hudi").option("as.of.instant", until).load(path)
    return (spark.read.format("hudi")
            .option("hoodie.datasource.query.type", "incremental")
            .option("hoodie.datasource.read.begin.instanttime", since)
            .option("hoodie.datasource.read.end.instanttime", until)
            .option("hoodie.datasource.read.incr.fallback.fulltablescan.enable", "true")
            .load(path))


def delete_rows(rows: DataFrame, cfg: Config, table: HudiTable, commit_metadata: dict[str, str] | None = None) -> None:
    """Delete these rows by their record key (`rows` needs the key and partition columns; others may be
    absent, Hudi's meta columns are dropped)."""
    write(rows.drop(*HOODIE_META_COLUMNS), cfg, table, "delete", commit_metadata)


def write_operation(table_has_data: bool, new_keys: bool = False) -> str:
    """bulk_insert for a first load (fast, no index lookup); once the table has data, insert when the caller
    knows no stored row has the keys it writes (`new_keys`: no index lookup either), else upsert."""
    if not table_has_data:
        return "bulk_insert"
    return "insert" if new_keys else "upsert"


def operation_for(cfg: Config, table: HudiTable) -> str:
    """`write_operation` for the table as it is now, for rows whose keys may be stored already."""
    return write_operation(bool(completed_commits(cfg, table)))
