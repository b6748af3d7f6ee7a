"""The slice of a table an incremental replace compares: a small scope is broadcast, a large one joined."""

from __future__ import annotations

from chispa import assert_df_equality

from spark_jobs.lake.replace import rows_in_scope
from spark_jobs.lake.session import session_conf

# Spark would broadcast these tiny frames on its own: switched off, only the explicit choice shows.
NO_AUTO_BROADCAST = {"spark.sql.autoBroadcastJoinThreshold": "-1"}


def _frames(spark):
    table = spark.createDataFrame([("r1", "a"), ("r2", "a"), ("r3", "b"), ("r4", "c")], "key string, id string")
    scope = spark.createDataFrame([("a",), ("c",), ("z",)], "id string").persist()
    expected = spark.createDataFrame([("r1", "a"), ("r2", "a"), ("r4", "c")], "key string, id string")
    return table, scope, expected


def _plan(df) -> str:
    return df._jdf.queryExecution().executedPlan().toString()


def test_a_scope_within_the_limit_is_broadcast_to_the_table_rows(spark):
    table, scope, expected = _frames(spark)
    with session_conf(spark, NO_AUTO_BROADCAST):
        sliced = rows_in_scope(table, scope, "id", broadcast_limit=3)
        assert "BroadcastHashJoin" in _plan(sliced) and "LeftSemi" in _plan(sliced)
        assert_df_equality(sliced, expected, ignore_row_order=True)


def test_a_scope_over_the_limit_is_joined_without_a_broadcast_and_gives_the_same_rows(spark):
    table, scope, expected = _frames(spark)
    with session_conf(spark, NO_AUTO_BROADCAST | {"spark.sql.adaptive.enabled": "false"}):
        sliced = rows_in_scope(table, scope, "id", broadcast_limit=2)
        assert "BroadcastHashJoin" not in _plan(sliced) and "LeftSemi" in _plan(sliced)
        assert_df_equality(sliced, expected, ignore_row_order=True)
