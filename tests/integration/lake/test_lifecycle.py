"""The job lifecycle every layer shares, on the real stack: audit rows in the layer's own audit table."""

from __future__ import annotations

import pytest

from spark_jobs.lake import hudi
from spark_jobs.lake.audit import audit_table
from spark_jobs.lake.lifecycle import FAILED, NOTHING_NEW, SUCCEEDED, JobError, JobRun
from tests.integration.helpers import commit_operation

pytestmark = pytest.mark.integration


def _audit_rows(spark, cfg, layer: str) -> dict[str, tuple]:
    rows = hudi.read(spark, cfg, audit_table(cfg, layer)).collect()
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
    """A run id from outside (Glue's JOB_RUN_ID, a retried workflow job) may come back: its row is upserted.
    One the run minted is unique: inserted (no index lookup), and still one row per run."""
    table = audit_table(cfg, "gold")

    def run(rows_out: int, run_id: str | None = None) -> tuple[str, str]:
        with JobRun(cfg, "gold", lambda: lake_spark, run_id) as job:
            job.audit.rows_out = rows_out
        last = hudi.completed_commits(lake_spark, cfg, table)[-1]
        return job.run_id, commit_operation(cfg, table.layer, table.name, last)

    run(0)  # the audit table exists from here on (its first write is a bulk insert)
    minted, minted_operation = run(1)
    assert minted_operation == "INSERT"
    assert run(2, "jr-given-twice") == ("jr-given-twice", "UPSERT")
    assert run(5, "jr-given-twice") == ("jr-given-twice", "UPSERT")
    rows = hudi.read(lake_spark, cfg, audit_table(cfg, "gold")).select("run_id", "rows_out").collect()
    counts = {run_id: [r.rows_out for r in rows if r.run_id == run_id] for run_id in (minted, "jr-given-twice")}
    assert counts == {minted: [1], "jr-given-twice": [5]}
