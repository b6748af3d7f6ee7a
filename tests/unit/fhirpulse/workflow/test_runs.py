"""Workflow run records: what `fhirpulse status --format json` prints, and the stored item round trip."""

import json
from dataclasses import asdict

from fhirpulse.workflow.runs import JobState, WorkflowRun


def test_a_run_survives_its_stored_form_and_summarises_as_status_prints_it():
    run = WorkflowRun("wr_1", "wf", "manual", started_at="2026-12-04T10:00:00.000+00:00")
    job = JobState("bronze", "jr_1", "RUNNING", started_at="2026-12-04T10:00:00.000+00:00")
    run.jobs += [job, JobState("silver", message="not run: bronze did not succeed")]
    job.end("FAILED", "boom")
    run.end("FAILED")
    assert job.seconds is not None and job.seconds >= 0
    assert WorkflowRun.from_item({"run": {"S": json.dumps(asdict(run))}}) == run
    summary = run.summary()
    assert list(summary) == ["run_id", "state", "trigger", "started_at", "ended_at", "jobs"]
    assert [(j["name"], j["state"]) for j in summary["jobs"]] == [("bronze", "FAILED"), ("silver", "NOT_RUN")]
