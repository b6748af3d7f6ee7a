"""Live progress: the jobs' log events as lines a person reads, and the run display in a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from fhirpulse.cli.progress import RunDisplay, Steps
from fhirpulse.core.logs import log_event
from fhirpulse.workflow.runs import SUCCEEDED, JobState, WorkflowRun


def test_steps_say_which_job_which_step_and_records_so_far():
    steps = Steps()
    lines = [steps.describe(e) for e in [
        {"event": "bronze.started"},
        {"event": "bronze.listed", "objects": 7, "new": 5},
        {"event": "bronze.claimed", "files": 5},
        {"event": "bronze.classified", "files": 5, "records": 79158, "types": ["Observation", "Patient"],
         "seconds": 12.3},
        {"event": "bronze.table_committed", "table": "patient"},
        {"event": "bronze.file", "file": "raw/a.ndjson", "records": 1200},
        {"event": "bronze.file", "file": "raw/b.ndjson", "records": 800},
        {"event": "silver.table_refreshed", "table": "encounter", "rows": 4321},
        {"event": "gold.refreshed", "stays_written": 682, "kpi_groups": 90, "patients": 500},
        {"event": "audit", "layer": "gold", "status": "SUCCEEDED", "duration_s": 9.5},
        {"event": "workflow.job_state", "job": "x"},
    ]]
    assert lines == [
        "bronze: started",
        "bronze: 5 new of 7 raw objects",
        "bronze: reading and classifying 5 files",
        "bronze: 79,158 records in 5 files classified (12.3 s); writing 2 resource tables",
        "bronze: patient written (1 tables so far)",
        "bronze: 1,200 records committed so far (raw/a.ndjson)",
        "bronze: 2,000 records committed so far (raw/b.ndjson)",
        "silver: encounter written, 4,321 rows (1 tables so far)",
        "gold: 682 stays and 90 KPI groups written (patients: 500)",
        "gold: SUCCEEDED in 9.5 s",
        None,
    ]


def test_a_pipe_gets_one_plain_line_per_step_and_a_table_that_never_breaks_a_run_id():
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False)
    run_id = "jr_20261204T225208Z_aba949cd"
    run = WorkflowRun("wr_20261204T225208Z_62d346a4", "wf", "s3: 5 uploads", state=SUCCEEDED,
                      jobs=[JobState("bronze", run_id, SUCCEEDED, seconds=58.0,
                                     message="SUCCEEDED: 317280 records in, 317280 rows out")])
    with RunDisplay(console) as display:
        display.update(run)
        log_event("bronze.listed", objects=5, new=5)
    text = out.getvalue()
    assert "bronze: 5 new of 5 raw objects\n" in text
    assert f"bronze: {run_id}" in text  # whole, on one line
    assert text.index("bronze: 5 new") < text.index("workflow run wr_")  # steps while it works, table at the end
