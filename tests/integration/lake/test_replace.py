"""replace_rows on a real Hudi table in the emulated lake: what an incremental layer write does."""

from __future__ import annotations

import pytest

from fhirpulse.core import aws
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.replace import replace_rows, with_content_hash
from tests.integration.helpers import commit_operation

pytestmark = pytest.mark.integration

SCHEMA = "patient string, row string, value string, version long"


def test_an_incremental_replace_upserts_deletes_and_leaves_the_catalog_entry_alone(cfg, lake_spark):
    table = hudi.HudiTable(layer="silver", name="replace_slices", record_key=["row"], precombine="version")

    def rows(*values):
        return with_content_hash(lake_spark.createDataFrame(list(values), SCHEMA), exclude=["version"])

    def entry() -> dict:
        return aws.client(cfg, "glue").get_table(DatabaseName=table.database(cfg), Name=table.name)["Table"]

    assert replace_rows(cfg, table, rows(("p1", "r1", "a", 1), ("p1", "r2", "b", 1), ("p2", "r3", "c", 1)),
                        None, "patient", {"run_id": "t1"}, keys_unique=True) == (3, 0)
    synced = entry()["Parameters"]["last_commit_time_sync"]

    # p1 now has r1 changed and r2 gone; p2 is out of scope and stays as it was. The frame written comes out
    # of joins (other column order, other nullability): the catalog entry must still count as current.
    scope = lake_spark.createDataFrame([("p1",)], "patient string")
    written, deleted = replace_rows(cfg, table, rows(("p1", "r1", "a2", 2)), scope, "patient", {"run_id": "t2"})
    assert (written, deleted) == (1, 1)
    table_now = hudi.read(lake_spark, cfg, table).select("patient", "row", "value").orderBy("row").collect()
    assert [tuple(r) for r in table_now] == [("p1", "r1", "a2"), ("p2", "r3", "c")]
    assert entry()["Parameters"]["last_commit_time_sync"] == synced  # no re-sync: same columns and types
    assert [c["Name"] for c in entry()["StorageDescriptor"]["Columns"]][-5:] == [
        "patient", "row", "value", "version", "_content_hash"]

    # The same rows again: nothing to write, no new commit.
    commits = timeline.completed_commits(cfg, table)
    assert replace_rows(cfg, table, rows(("p1", "r1", "a2", 3)), scope, "patient",
                        {"run_id": "t3"}) == (0, 0)
    assert timeline.completed_commits(cfg, table) == commits


def test_new_keys_alone_are_inserted_and_a_key_outside_the_slice_is_upserted_not_duplicated(cfg, lake_spark):
    table = hudi.HudiTable(layer="silver", name="replace_operations", record_key=["row"], precombine="version")

    def rows(*values):
        return with_content_hash(lake_spark.createDataFrame(list(values), SCHEMA), exclude=["version"])

    def scope(*patients):
        return lake_spark.createDataFrame([(p,) for p in patients], "patient string")

    def last_operation() -> str:
        return commit_operation(cfg, table.layer, table.name, timeline.completed_commits(cfg, table)[-1])

    replace_rows(cfg, table, rows(("p1", "r1", "a", 1), ("p2", "r2", "b", 1)), None, "patient", {"run_id": "t1"})
    # Keys that determine their slice (as silver's row keys begin with the resource id), none stored: an
    # insert, without Hudi's index lookup.
    assert replace_rows(cfg, table, rows(("p3", "r3", "c", 2)), scope("p3"), "patient", {"run_id": "t2"},
                        keys_in_scope=True) == (1, 0)
    assert last_operation() == "INSERT"
    # A stored key among them: an upsert.
    assert replace_rows(cfg, table, rows(("p3", "r3", "c2", 3), ("p3", "r4", "d", 3)), scope("p3"), "patient",
                        {"run_id": "t3"}, keys_in_scope=True) == (2, 0)
    assert last_operation() == "UPSERT"
    # Without keys_in_scope a key missing from the slice may be stored elsewhere (a stay whose encounter
    # moved to another patient): r2 is stored under p2 and now comes for p1. It must replace that row.
    assert replace_rows(cfg, table, rows(("p1", "r1", "a", 1), ("p1", "r2", "b2", 4)), scope("p1"), "patient",
                        {"run_id": "t4"}) == (1, 0)
    assert last_operation() == "UPSERT"
    table_now = hudi.read(lake_spark, cfg, table).select("patient", "row", "value").orderBy("row").collect()
    assert [tuple(r) for r in table_now] == [("p1", "r1", "a"), ("p1", "r2", "b2"), ("p3", "r3", "c2"),
                                             ("p3", "r4", "d")]
