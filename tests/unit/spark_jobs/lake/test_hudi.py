"""Hudi helpers that need no lakehouse: catalog fingerprints and the catalog column check."""

from __future__ import annotations

from pyspark.sql import functions as F

from fhirpulse.core.config import load_config
from spark_jobs.lake import catalog_sync, hudi

TABLE = hudi.HudiTable("silver", "stays", record_key=["id"], precombine="ts", partition_by=["year"])


def _entry(*names: str) -> dict:
    return {"StorageDescriptor": {"Columns": [{"Name": n, "Type": "string"} for n in names]}}


def test_missing_columns_ignores_partition_columns_and_sees_new_ones(spark):
    df = spark.createDataFrame([("a", 1, 2024, "x")], "id string, ts long, year int, note string")
    assert catalog_sync.missing_catalog_columns(_entry("_hoodie_commit_time", "id", "ts", "note"), TABLE, df) == []
    assert catalog_sync.missing_catalog_columns(_entry("id", "ts"), TABLE, df) == ["note"]
    assert catalog_sync.missing_catalog_columns(None, TABLE, df) == ["id", "ts", "note"]


def test_fingerprint_changes_with_schema_partitioning_and_location(spark):
    cfg = load_config("local")
    df = spark.createDataFrame([("a", 1)], "id string, ts long")
    same = catalog_sync.catalog_fingerprint(cfg, TABLE, spark.createDataFrame([("b", 2)], "id string, ts long"))
    assert catalog_sync.catalog_fingerprint(cfg, TABLE, df) == same
    assert catalog_sync.catalog_fingerprint(cfg, TABLE, df.withColumn("note", df["id"])) != same
    unpartitioned = hudi.HudiTable("silver", "stays", record_key=["id"], precombine="ts")
    assert catalog_sync.catalog_fingerprint(cfg, unpartitioned, df) != same
    elsewhere = hudi.HudiTable("gold", "stays", record_key=["id"], precombine="ts", partition_by=["year"])
    assert catalog_sync.catalog_fingerprint(cfg, elsewhere, df) != same


def test_fingerprint_ignores_nullability_but_not_types_or_column_order(spark):
    """An incremental read and a snapshot of one source differ only in nullability: no re-sync for that."""
    cfg = load_config("local")
    nullable = spark.createDataFrame([("a", 1)], "id string, ts long")
    required = nullable.select(F.coalesce("id", F.lit("")).alias("id"), F.coalesce("ts", F.lit(0)).alias("ts"))
    assert [f.nullable for f in required.schema.fields] == [False, False]
    same = catalog_sync.catalog_fingerprint(cfg, TABLE, nullable)
    assert catalog_sync.catalog_fingerprint(cfg, TABLE, required) == same
    assert catalog_sync.catalog_fingerprint(cfg, TABLE, nullable.select("ts", "id")) != same
    assert catalog_sync.catalog_fingerprint(cfg, TABLE, nullable.select("id", F.col("ts").cast("int"))) != same
