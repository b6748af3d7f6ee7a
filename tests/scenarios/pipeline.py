"""Uploads start the workflow, and the KPIs that reach the SQL engine equal plain Python over the raw files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fhirpulse.core.config import Config
from fhirpulse.reporting.engine import engine_for
from fhirpulse.reporting.kpis import query_kpis
from fhirpulse.workflow.runs import RunStore, WorkflowRun
from tests.integration.gold import kpi_reference as ref
from tests.integration.helpers import assert_equal_kpis

JOBS_IN_ORDER = [("bronze", "SUCCEEDED"), ("silver", "SUCCEEDED"), ("gold", "SUCCEEDED")]


def uploads_reach_the_kpis(cfg: Config, upload_and_process: Callable[[], str],
                           all_uploads: list[Path]) -> WorkflowRun:
    """`upload_and_process` lands raw files and returns the id of the workflow run they started (the embedded
    test watches the upload queue itself; compose's job runner does it in its container). The run succeeded
    job by job, and the KPIs through the SQL engine equal plain Python over `all_uploads` (all of the env's)."""
    run = RunStore(cfg).get(upload_and_process())
    assert run.state == "SUCCEEDED", run.summary()
    assert [(j.name, j.state) for j in run.jobs] == JOBS_IN_ORDER
    expected = ref.summary(ref.stays(ref.latest_resources(all_uploads)))
    assert expected["stays"] > 10
    assert_equal_kpis(query_kpis(cfg, engine_for(cfg))[0], expected)
    return run
