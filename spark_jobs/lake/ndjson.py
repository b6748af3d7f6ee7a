"""The one NDJSON line reader: bronze reads raw S3 objects with it, the SQL-on-FHIR tools local files."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def read_lines(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Every line (blank ones too) as (source_file, split_start, row_id, text), in one scan, no Python UDF.

    Spark's text reader may split a large file; rows in a split keep their order and get consecutive row
    ids, so exact line numbers can be derived later from (split_start, row_id) without a second scan.
    `source_file` is the path as Spark spells it (URL-encoded). gzip is inflated when the name ends in .gz.
    """
    return spark.read.text(list(paths)).select(
        F.input_file_name().alias("source_file"),
        F.input_file_block_start().alias("split_start"),
        F.monotonically_increasing_id().alias("row_id"),
        F.col("value").alias("text"),
    )
