"""The job lifecycle every layer shares, on the real stack: audit rows in the layer's own audit table."""

from __future__ import annotations

import pytest

from fhirpulse.core import aws
from spark_jobs.lake.audit import read_audit
from spark_jobs.lake.lifecycle import FAILED, NOTHING_NEW, SUCCEEDED, JobError, JobRun

pytestmark = pytest.mark.integration


def _audit_rows(spark, cfg, layer: str) -> dict[str, tuple]:
    rows = read_audit(spark, cfg, layer).collect()
    return {r.run_id: (r.layer, r.status, r.rows_out, r.error) for r in rows}


def test_a_run_that_fails_is_audited_in_its_layer_and_raises_naming_the_run(cfg, lake_spark):
    run = JobRun(cfg, "gold", lambda: lake_spark)
    with pytest.raises(JobError, match=r"gold run gold-\S+ failed: ValueError: no stays") as raised, run:
        run.audit.rows_out = 3
        raise ValueError("no stays")
    assert isinstance(raised.value.__cause__, ValueError)
    assert _audit_rows(lake_spark, cfg, "gold")[run.run_id] == ("gold", FAILED, 3, "ValueError: no stays")


def test_runs_that_end_normally_are_succeeded_or_what_they_said(cfg, lake_spark):
    with JobRun(cfg, "silver", lambda: lake_spark) as done:
        done.audit.rows_out = 7
    with JobRun(cfg, "silver", lambda: lake_spark) as idle:
        idle.finish(NOTHING_NEW)
    rows = _audit_rows(lake_spark, cfg, "silver")
    assert rows[done.run_id] == ("silver", SUCCEEDED, 7, None)
    assert rows[idle.run_id] == ("silver", NOTHING_NEW, 0, None)
    assert all(run_id.startswith("silver-") for run_id in rows)


def test_a_run_id_given_twice_keeps_one_audit_row_the_last(cfg, lake_spark):
    """A run id from outside (Glue's JOB_RUN_ID, a retried workflow job) may come back: its row is replaced.
    One the run minted is unique."""

    def run(rows_out: int, run_id: str | None = None) -> str:
        with JobRun(cfg, "gold", lambda: lake_spark, run_id) as job:
            job.audit.rows_out = rows_out
        return job.run_id

    minted = run(1)
    assert run(2, "jr-given-twice") == "jr-given-twice"
    assert run(5, "jr-given-twice") == "jr-given-twice"
    rows = read_audit(lake_spark, cfg, "gold").select("run_id", "rows_out").collect()
    counts = {run_id: [r.rows_out for r in rows if r.run_id == run_id] for run_id in (minted, "jr-given-twice")}
    assert counts == {minted: [1], "jr-given-twice": [5]}


def test_a_run_that_needs_no_spark_starts_none_and_its_audit_table_is_registered_as_json(cfg):
    def no_spark():
        raise AssertionError("the run started Spark")

    with JobRun(cfg, "bronze", no_spark) as idle:
        idle.finish(NOTHING_NEW)
    entry = aws.client(cfg, "glue").get_table(DatabaseName=cfg.glue.database("bronze"),
                                              Name=cfg.bronze.audit_table)["Table"]
    assert entry["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.apache.hive.hcatalog.data.JsonSerDe"
    assert [c["Name"] for c in entry["StorageDescriptor"]["Columns"]][:3] == ["run_id", "layer", "status"]
