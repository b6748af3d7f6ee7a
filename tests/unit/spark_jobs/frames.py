"""Tiny test frames built inside the JVM (one JSON literal), so queries over them start no Python worker."""

from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T


def frame(spark: SparkSession, rows: list[tuple], ddl: str) -> DataFrame:
    """`rows` (tuples in the order of `ddl`, e.g. "id string, n int") as a DataFrame of that schema."""
    schema = T._parse_datatype_string(ddl)
    records = [dict(zip(schema.fieldNames(), row, strict=True)) for row in rows]
    return spark.range(1).select(F.inline(F.from_json(F.lit(json.dumps(records)), T.ArrayType(schema))))
