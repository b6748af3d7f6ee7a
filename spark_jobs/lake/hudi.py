"""Hudi write options and the one writer every layer uses.

Tables are Copy-on-Write at table version 6 (Hudi 0.15.0's own), so Trino 476 and Athena read them, and
are synced to the Glue Data Catalog by Hudi's AwsGlueCatalogSyncTool (endpoint from config for emulators),
run by `write` after the commit. A sync costs Glue round trips plus, when its Glue client closes, a wait
(Netty's quiet period) that `sync_catalog` moves off the job's path; it runs only when the catalog entry
could change: a new table, new column names or types, a new location, or a partitioned table (each commit
may add partitions). Hudi 0.15's Glue sync sometimes records a commit without its new columns (with or
without this project's options), so after every sync the entry is checked and, if a column is missing,
synced again by the same tool. Measured costs and gains: BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from pyspark.sql import DataFrame

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event

GLUE_SYNC_TOOL = "org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool"
# A Glue table parameter, set through the sync tool: what the catalog entry was last synced from.
CATALOG_FINGERPRINT = "fhirpulse.catalog_fingerprint"


@dataclass(frozen=True)
class HudiTable:
    """Where a table lives and how its rows are keyed."""

    layer: str  # bronze | silver | gold
    name: str
    record_key: Sequence[str]
    precombine: str
    partition_by: Sequence[str] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def path(self, cfg: Config) -> str:
        return cfg.s3.table_uri(self.layer, self.name)

    def database(self, cfg: Config) -> str:
        return cfg.glue.database(self.layer)


def catalog_fingerprint(cfg: Config, table: HudiTable, df: DataFrame) -> str:
    """Everything the table's catalog entry is derived from: column names and types, partitioning and
    location. Not nullability: it is not in the entry, and a snapshot and an incremental read of the same
    source differ in it (a needless difference would re-sync the table's entry on every write)."""
    columns = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
    source = json.dumps([columns, list(table.partition_by), table.path(cfg)], sort_keys=True)
    return hashlib.sha256(source.encode()).hexdigest()[:32]


class CatalogSyncError(RuntimeError):
    """The Glue catalog entry still lacks columns after the sync tool ran again."""


def _glue_entry(cfg: Config, table: HudiTable) -> dict | None:
    try:
        return aws.client(cfg, "glue").get_table(DatabaseName=table.database(cfg), Name=table.name)["Table"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "EntityNotFoundException":
            return None
        raise


def missing_catalog_columns(entry: dict | None, table: HudiTable, df: DataFrame) -> list[str]:
    """Columns of `df` that the catalog entry does not list (all of them when there is no entry)."""
    listed = {c["Name"] for c in (entry or {}).get("StorageDescriptor", {}).get("Columns", [])}
    return [c for c in df.columns if c not in listed and c not in table.partition_by]


def catalog_is_current(cfg: Config, table: HudiTable, df: DataFrame, fingerprint: str) -> bool:
    """True when the Glue entry was synced from the same fingerprint, lists every column and cannot gain
    partitions."""
    if table.partition_by:
        return False
    entry = _glue_entry(cfg, table)
    return (entry is not None and entry.get("Parameters", {}).get(CATALOG_FINGERPRINT) == fingerprint
            and not missing_catalog_columns(entry, table, df))


def sync_catalog(spark, cfg: Config, table: HudiTable, fingerprint: str) -> None:
    """Run Hudi's Glue sync tool on the table, outside a write."""
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    for key, value in (glue_sync_options(cfg, table, fingerprint)
                       | {"hoodie.datasource.meta.sync.base.path": table.path(cfg)}).items():
        props.setProperty(key, value)
    tool = jvm.org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool(props, spark.sparkContext._jsc.hadoopConfiguration())
    try:
        tool.syncHoodieTable()
    finally:
        # Closing the tool closes its Glue client, whose Netty event loop waits out a 2 s quiet period
        # before it returns: nothing depends on that, so it happens off the job's path.
        threading.Thread(target=_close_quietly, args=(tool,), name=f"close-glue-sync-{table.name}",
                         daemon=True).start()


def _close_quietly(tool) -> None:
    with suppress(Exception):  # the session may be stopping meanwhile; the client goes with it
        tool.close()


def ensure_catalog_columns(df: DataFrame, cfg: Config, table: HudiTable, fingerprint: str,
                           attempts: int = 3) -> None:
    """Re-run the sync tool while the Glue entry lacks a column of `df`; fail naming them after `attempts`."""
    for attempt in range(attempts + 1):
        missing = missing_catalog_columns(_glue_entry(cfg, table), table, df)
        if not missing:
            return
        if attempt == attempts:
            raise CatalogSyncError(f"{table.database(cfg)}.{table.name}: the Glue catalog entry still lacks "
                                   f"columns {missing} after {attempts} syncs")
        log_event("hudi.catalog_resync", table=table.name, missing_columns=missing)
        sync_catalog(df.sparkSession, cfg, table, fingerprint)


def glue_sync_options(cfg: Config, table: HudiTable, fingerprint: str) -> dict[str, str]:
    options = {
        "hoodie.datasource.meta.sync.enable": "true",
        "hoodie.datasource.hive_sync.table_properties": f"{CATALOG_FINGERPRINT}={fingerprint}",
        "hoodie.meta.sync.client.tool.class": GLUE_SYNC_TOOL,
        "hoodie.datasource.hive_sync.database": table.database(cfg),
        "hoodie.datasource.hive_sync.table": table.name,
        "hoodie.datasource.hive_sync.partition_fields": ",".join(table.partition_by),
        "hoodie.datasource.hive_sync.partition_extractor_class": (
            "org.apache.hudi.hive.MultiPartKeysValueExtractor" if table.partition_by
            else "org.apache.hudi.hive.NonPartitionedExtractor"),
        "hoodie.datasource.hive_sync.support_timestamp": "true",
        "hoodie.aws.glue.region": cfg.region,
    }
    endpoint = aws.service_endpoint(cfg, "glue")
    if endpoint:  # an emulator: its endpoint and static keys; real AWS uses the SDK's default chain
        options |= {
            "hoodie.aws.glue.endpoint": endpoint,
            "hoodie.aws.access.key": cfg.aws.access_key_id or "",
            "hoodie.aws.secret.key": cfg.aws.secret_access_key or "",
        }
    return options


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
    fingerprint = catalog_fingerprint(cfg, table, df)
    # A delete cannot change the catalog entry (and its rows may carry only the keys).
    needs_sync = operation != "delete" and not catalog_is_current(cfg, table, df, fingerprint)
    writer = df.write.format("hudi").options(**write_options(cfg, table, operation, keys_unique))
    for key, value in (commit_metadata or {}).items():
        # Extra metadata lands in the commit file: ties a commit to a run id and source files.
        writer = writer.option(f"hoodie.fhirpulse.{key}", value)
    writer.option("hoodie.datasource.write.commitmeta.key.prefix", "hoodie.fhirpulse.").mode("append").save(
        table.path(cfg))
    if needs_sync:
        sync_catalog(df.sparkSession, cfg, table, fingerprint)
        ensure_catalog_columns(df, cfg, table, fingerprint)


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


def _glob(spark, pattern: str) -> list[str]:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return sorted(status.getPath().getName() for status in fs.globStatus(hadoop_path) or [])


def layer_table_paths(spark, cfg: Config, layer: str) -> list[str]:
    """Every Hudi table under the layer's prefix (those with a timeline), by path."""
    base = f"s3://{cfg.s3.bucket}/{cfg.s3.lake_prefix}/{layer}"
    return [f"{base}/{name}" for name in _glob(spark, f"{base}/*")
            if _glob(spark, f"{base}/{name}/.hoodie/hoodie.properties")]


def layer_bytes(cfg: Config, layer: str) -> int:
    """Bytes stored under the layer's prefix (every table's files and timeline)."""
    pages = aws.client(cfg, "s3").get_paginator("list_objects_v2").paginate(
        Bucket=cfg.s3.bucket, Prefix=f"{cfg.s3.lake_prefix}/{layer}/")
    return sum(item["Size"] for page in pages for item in page.get("Contents", []))


def pending_instants(spark, path: str) -> list[str]:
    """Instants of the table at `path` that were requested or started but never completed: what a writer
    killed mid-commit leaves behind (a rollback removes them and their files)."""
    started: set[str] = set()
    completed: set[str] = set()
    for name in _glob(spark, f"{path}/.hoodie/[0-9]*"):
        instant, _, state = name.partition(".")
        (started if state.endswith(("requested", "inflight")) else completed).add(instant)
    return sorted(started - completed)


def rollback_failed_writes(spark, path: str) -> list[str]:
    """Roll back the table's pending instants with Hudi's own write client (what its next writer would do
    eagerly; done here so a table that the recovering run does not write is cleaned up too). Only safe while
    no other writer is live: jobs call it holding their layer's lease. Returns the instants rolled back."""
    pending = pending_instants(spark, path)
    if not pending:
        return []
    jvm = spark.sparkContext._jvm
    hudi = jvm.org.apache.hudi
    config = (hudi.config.HoodieWriteConfig.newBuilder().withPath(path)
              .withProps({"hoodie.metadata.enable": "false"}).build())
    client = hudi.client.SparkRDDWriteClient(hudi.client.common.HoodieSparkEngineContext(spark.sparkContext._jsc),
                                             config)
    try:
        client.rollbackFailedWrites()
    finally:
        client.close()
    left = pending_instants(spark, path)
    if left:
        raise RuntimeError(f"Hudi table {path}: pending instants {left} survived the rollback")
    return pending


def completed_commits(cfg: Config, table: HudiTable) -> list[str]:
    """Instant times of the table's completed COW commits, oldest first (empty when the table does not exist
    yet). Listed through the S3 API, not Spark: deciding that there is nothing to do needs no JVM."""
    bucket, _, path = table.path(cfg).removeprefix("s3://").partition("/")
    pages = aws.client(cfg, "s3").get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{path}/.hoodie/", Delimiter="/")
    names = (item["Key"].rsplit("/", 1)[-1] for page in pages for item in page.get("Contents", []))
    return sorted(name.removesuffix(".commit") for name in names if _COMPLETED_COMMIT.fullmatch(name))


_COMPLETED_COMMIT = re.compile(r"[0-9]+\.commit")


def write_operation(table_has_data: bool, new_keys: bool = False) -> str:
    """bulk_insert for a first load (fast, no index lookup); once the table has data, insert when the caller
    knows no stored row has the keys it writes (`new_keys`: no index lookup either), else upsert."""
    if not table_has_data:
        return "bulk_insert"
    return "insert" if new_keys else "upsert"


def operation_for(spark, cfg: Config, table: HudiTable, new_keys: bool = False) -> str:
    """`write_operation` for the table as it is now."""
    return write_operation(bool(completed_commits(cfg, table)), new_keys)
