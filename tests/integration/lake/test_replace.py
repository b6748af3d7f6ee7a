"""replace_rows on a real Hudi table in the emulated lake: what an incremental layer write does."""

from __future__ import annotations

import pytest

from fhirpulse.core import aws
from spark_jobs.lake import hudi
from spark_jobs.lake.replace import replace_rows, with_content_hash

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
    commits = hudi.completed_commits(lake_spark, cfg, table)
    assert replace_rows(cfg, table, rows(("p1", "r1", "a2", 3)), scope, "patient",
                        {"run_id": "t3"}) == (0, 0)
    assert hudi.completed_commits(lake_spark, cfg, table) == commits
