"""Inputs in the bronze shape (resource_type, raw_json): from NDJSON files or in-memory resources."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.lake.ndjson import read_lines

BRONZE_SCHEMA = T.StructType([
    T.StructField("resource_type", T.StringType()),
    T.StructField("raw_json", T.StringType()),
])


def frame_from_resources(spark: SparkSession, resources: Iterable[dict]) -> DataFrame:
    """Small in-memory resources (test fixtures) as a bronze-shaped frame. Not test-only: the suite runner reads the
    SQL-on-FHIR test suite's resources through it (`run_test_file`, for `fhirpulse views test-suite`).

    Built inside the JVM from one JSON literal: `createDataFrame(list)` would be backed by a Python RDD,
    and every query over it would start Python workers just to unpickle a few rows.
    """
    rows = [{"resource_type": r.get("resourceType"), "raw_json": json.dumps(r)} for r in resources]
    parsed = F.from_json(F.lit(json.dumps(rows)), T.ArrayType(BRONZE_SCHEMA))
    return spark.range(1).select(F.inline(parsed))


def ndjson_files(path: Path, resource_type: str | None = None) -> list[Path]:
    """NDJSON files under `path` (a file or a directory). With a resource type, bulk-export names
    (`Patient.000.ndjson`) narrow the read to that type's files when there are any."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no NDJSON file or directory at {path}")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith((".ndjson", ".ndjson.gz")))
    if resource_type:
        typed = [p for p in files if p.name.split(".")[0] == resource_type]
        files = typed or files
    if not files:
        raise FileNotFoundError(f"no *.ndjson files under {path}")
    return files


def read_ndjson(spark: SparkSession, path: str | Path, resource_type: str | None = None) -> DataFrame:
    """NDJSON resources as (resource_type, raw_json), read line by line by Spark (no driver collect)."""
    lines = read_lines(spark, [str(p) for p in ndjson_files(Path(path), resource_type)])
    return lines.where(F.length(F.trim("text")) > 0).select(
        F.get_json_object("text", "$.resourceType").alias("resource_type"),
        F.col("text").alias("raw_json"),
    )
