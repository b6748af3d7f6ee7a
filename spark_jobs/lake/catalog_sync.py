"""The Glue catalog entry of a Hudi table, kept by Hudi's own AwsGlueCatalogSyncTool (endpoint from config for
emulators), run by `hudi.write` after the commit, not inside it.

A sync costs Glue round trips plus, when its Glue client closes, a wait (Netty's quiet period) that
`sync_catalog` moves off the job's path; it runs only when the catalog entry could change: a new table, new
column names or types, a new location, or a partitioned table (each commit may add partitions). Hudi 0.15's
Glue sync sometimes records a commit without its new columns (with or without this project's options), so
after every sync the entry is checked and, if a column is missing, synced again by the same tool.
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import suppress

from botocore.exceptions import ClientError
from pyspark.sql import DataFrame

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event
from spark_jobs.lake.tables import HudiTable

GLUE_SYNC_TOOL = "org.apache.hudi.aws.sync.AwsGlueCatalogSyncTool"
# A Glue table parameter, set through the sync tool: what the catalog entry was last synced from.
CATALOG_FINGERPRINT = "fhirpulse.catalog_fingerprint"


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
