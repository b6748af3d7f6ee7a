"""The compose stack answers to the embedded tests' scenario bodies (tests/scenarios/)."""

from __future__ import annotations

import time

import pytest

from fhirpulse.stack.landing import upload_tree
from fhirpulse.workflow.runs import RunStore
from tests.integration.helpers import generate
from tests.scenarios.pipeline import uploads_reach_the_kpis

pytestmark = pytest.mark.containers


def _next_finished_run(cfg, before: set[str], timeout: float = 900) -> str:
    """The id of the first workflow run the compose job runner finishes after `before`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in RunStore(cfg).recent(5):
            if run.run_id not in before and run.state != "RUNNING":
                return run.run_id
        time.sleep(5)
    raise AssertionError(f"no workflow run finished within {timeout:.0f}s")


def test_uploads_reach_the_kpis_on_compose(host_cfg, tmp_path):
    raw = generate(tmp_path / "batch-1", "compose", patients=30, seed=21)
    before = {r.run_id for r in RunStore(host_cfg).recent(20)}

    def upload_and_process() -> str:
        upload_tree(host_cfg, raw, raw.name)
        return _next_finished_run(host_cfg, before)

    uploads_reach_the_kpis(host_cfg, upload_and_process, all_uploads=[raw])
