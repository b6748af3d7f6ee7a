"""The GitHub workflow (`.github/workflows/ci.yml`), read statically: it passes on a fork without the FHIR
samples (they skip, explicitly, under GitHub's CI=true) and its integration job runs what `make test` runs on
the embedded stack, the reliability suite included. (Its schema is checked in test_compose_files.py.)"""

from __future__ import annotations

import shlex

import pytest
import yaml

from fhirpulse.core.config import REPO_ROOT
from tests.conftest import SAMPLES_OPTIONAL_VAR

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _pytest_runs(job: dict) -> list[tuple[list[str], dict]]:
    """(pytest's arguments, the step's environment merged over the job's) of each step running pytest."""
    out = []
    for step in job["steps"]:
        words = shlex.split(step.get("run", ""))
        if words and words[0].endswith("pytest"):
            out.append((words[1:], {**job.get("env", {}), **step.get("env", {})}))
    return out


def test_tests_that_need_the_samples_skip_in_every_job_that_runs_pytest(workflow):
    jobs = {name: _pytest_runs(job) for name, job in workflow["jobs"].items()}
    assert jobs["unit"] and jobs["integration"]
    for name, runs in jobs.items():
        for args, env in runs:
            merged = {**workflow.get("env", {}), **env}
            assert str(merged.get(SAMPLES_OPTIONAL_VAR)) == "1", f"{name}: pytest {args} without {SAMPLES_OPTIONAL_VAR}=1"
            # GitHub's CI=true stays: a missing terraform, mirror or browser still fails
            assert "CI" not in merged, f"{name}: pytest {args} overrides CI"


def test_the_integration_job_runs_the_integration_and_reliability_suites(workflow):
    suites = {arg for args, _ in _pytest_runs(workflow["jobs"]["integration"]) for arg in args
              if not arg.startswith("-")}
    assert {"tests/integration", "tests/reliability"} <= suites, suites
    assert {"tests/unit"} <= {arg for args, _ in _pytest_runs(workflow["jobs"]["unit"]) for arg in args}


def test_missing_samples_skip_under_ci_only_when_declared_optional(monkeypatch, tmp_path):
    from tests.conftest import SAMPLES_VAR, require_samples

    monkeypatch.setenv(SAMPLES_VAR, str(tmp_path / "nowhere"))
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv(SAMPLES_OPTIONAL_VAR, raising=False)
    with pytest.raises(pytest.fail.Exception, match="FHIR samples not found"):
        require_samples()
    monkeypatch.setenv(SAMPLES_OPTIONAL_VAR, "1")
    with pytest.raises(pytest.skip.Exception, match="FHIR samples not found"):
        require_samples()
    monkeypatch.delenv("CI")
    monkeypatch.delenv(SAMPLES_OPTIONAL_VAR)
    with pytest.raises(pytest.skip.Exception):
        require_samples()
