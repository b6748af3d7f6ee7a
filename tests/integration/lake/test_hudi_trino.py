"""One Hudi table from Spark to Trino through emulated AWS: the thinnest end-to-end path, no mocks."""

from __future__ import annotations

import pytest

from fhirpulse.core import aws
from spark_jobs.lake import catalog_sync, hudi, timeline

pytestmark = pytest.mark.integration


def test_hudi_table_round_trips_from_spark_to_trino(cfg, lake_spark, trino_cursor_factory):
    table = hudi.HudiTable(layer="bronze", name="skeleton_roundtrip", record_key=["id"], precombine="version",
                           partition_by=["region"])
    first = lake_spark.createDataFrame(
        [("p1", 1, "north", "alpha"), ("p2", 1, "south", "beta"), ("p3", 1, "north", "gamma")],
        "id string, version long, region string, value string",
    )
    hudi.write(first, cfg, table, operation="bulk_insert", commit_metadata={"run_id": "it-1"})

    # The table is in the emulated Glue catalog, registered by Hudi's AwsGlueCatalogSyncTool.
    glue_table = aws.client(cfg, "glue").get_table(DatabaseName=cfg.glue.bronze_database, Name=table.name)["Table"]
    assert glue_table["StorageDescriptor"]["Location"].rstrip("/").endswith("lake/bronze/skeleton_roundtrip")
    assert [k["Name"] for k in glue_table["PartitionKeys"]] == ["region"]

    changed = lake_spark.createDataFrame([("p2", 2, "south", "beta-v2")],
                                         "id string, version long, region string, value string")
    hudi.write(changed, cfg, table, operation="upsert", commit_metadata={"run_id": "it-2"})

    cur = trino_cursor_factory(cfg.glue.bronze_database)
    cur.execute(f"SELECT id, version, value FROM {table.name} ORDER BY id")
    rows = cur.fetchall()
    assert rows == [["p1", 1, "alpha"], ["p2", 2, "beta-v2"], ["p3", 1, "gamma"]]
    cur.execute(f"SELECT count(*), count(DISTINCT _hoodie_record_key) FROM {table.name}")
    assert cur.fetchall() == [[3, 3]]


def test_catalog_sync_runs_only_when_the_catalog_entry_would_change(cfg, lake_spark, trino_cursor_factory):
    table = hudi.HudiTable(layer="bronze", name="skeleton_sync", record_key=["id"], precombine="version")
    glue = aws.client(cfg, "glue")

    def synced() -> tuple[str, list[str]]:
        entry = glue.get_table(DatabaseName=cfg.glue.bronze_database, Name=table.name)["Table"]
        return entry["Parameters"]["last_commit_time_sync"], [c["Name"] for c in entry["StorageDescriptor"]["Columns"]]

    schema = "id string, version long, value string"
    hudi.write(lake_spark.createDataFrame([("a", 1, "x")], schema), cfg, table, "bulk_insert")
    first_sync, columns = synced()
    assert columns[-3:] == ["id", "version", "value"]

    hudi.write(lake_spark.createDataFrame([("a", 2, "y")], schema), cfg, table, "upsert")
    assert synced() == (first_sync, columns)  # same schema: the catalog entry was left alone...
    cur = trino_cursor_factory(cfg.glue.bronze_database)
    cur.execute(f"SELECT id, version, value FROM {table.name}")
    assert cur.fetchall() == [["a", 2, "y"]]  # ...and still serves the new commit

    wider = lake_spark.createDataFrame([("b", 1, "z", "new")], schema + ", note string")
    hudi.write(wider, cfg, table, "upsert")
    second_sync, columns = synced()
    assert second_sync > first_sync and columns[-4:] == ["id", "version", "value", "note"]
    assert len(timeline.completed_commits(cfg, table)) == 3


def test_a_catalog_entry_missing_a_column_is_repaired_by_hudis_sync_tool(cfg, lake_spark):
    # What Hudi 0.15's in-writer sync sometimes leaves behind (a new column missing), made deterministic by
    # removing the column from the entry by hand; the repair must run the sync tool again and restore it.
    table = hudi.HudiTable(layer="bronze", name="skeleton_repair", record_key=["id"], precombine="version")
    df = lake_spark.createDataFrame([("a", 1, "x")], "id string, version long, value string")
    hudi.write(df, cfg, table, "bulk_insert")
    glue = aws.client(cfg, "glue")
    entry = glue.get_table(DatabaseName=cfg.glue.bronze_database, Name=table.name)["Table"]
    descriptor = dict(entry["StorageDescriptor"], Columns=[c for c in entry["StorageDescriptor"]["Columns"]
                                                            if c["Name"] != "value"])
    glue.update_table(DatabaseName=cfg.glue.bronze_database, TableInput={
        "Name": table.name, "TableType": entry["TableType"], "Parameters": entry["Parameters"],
        "PartitionKeys": entry.get("PartitionKeys", []), "StorageDescriptor": descriptor})
    fingerprint = catalog_sync.catalog_fingerprint(cfg, table, df)
    assert not catalog_sync.catalog_is_current(cfg, table, df, fingerprint)  # a missing column is never "current"

    catalog_sync.ensure_catalog_columns(df, cfg, table, fingerprint)

    entry = glue.get_table(DatabaseName=cfg.glue.bronze_database, Name=table.name)["Table"]
    assert [c["Name"] for c in entry["StorageDescriptor"]["Columns"]][-3:] == ["id", "version", "value"]
    assert catalog_sync.catalog_is_current(cfg, table, df, fingerprint)


def test_spark_runs_on_java_17(lake_spark):
    version = lake_spark.sparkContext._jvm.java.lang.System.getProperty("java.version")
    assert version.split(".")[0] == "17"


def test_trino_runs_on_its_own_jdk(trino_cursor_factory):
    cur = trino_cursor_factory()
    cur.execute("SELECT node_version FROM system.runtime.nodes")
    assert cur.fetchall() == [["476"]]
    # Trino 476 refuses to start on a JDK older than 24, so a running node proves the JDK choice.
