"""Shared fixtures: the FHIR samples nobody here wrote, and a plain local Spark session for unit tests.

The samples are found through one setting, FHIRPULSE_SAMPLES (default: ../shared/fhir-samples beside the
checkout). Where they are missing, the tests that need them skip with the reason; under CI=true they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fhirpulse.core.config import SparkConfig

REPO = Path(__file__).resolve().parent.parent
SAMPLES_VAR = "FHIRPULSE_SAMPLES"


def samples_dir() -> Path:
    return Path(os.environ.get(SAMPLES_VAR) or REPO.parent / "shared" / "fhir-samples")


def require_samples(subfolder: str = "") -> Path:
    """The samples folder (or one of its subfolders); skips the test where it is missing (fails under CI)."""
    path = samples_dir() / subfolder
    if path.exists():
        return path
    message = (f"FHIR samples not found at {path}: set {SAMPLES_VAR} to the fhir-samples folder "
               "(Synthea bulk + bundles, R4 examples, SQL-on-FHIR v2 tests)")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def pytest_report_header(config) -> str:
    found = "found" if samples_dir().is_dir() else f"MISSING: tests that need them skip; set {SAMPLES_VAR}"
    return f"fhir samples: {samples_dir()} ({found})"


@pytest.fixture(scope="session")
def samples() -> Path:
    return require_samples()


@pytest.fixture(scope="session")
def spark():
    from fhirpulse import deps
    from spark_jobs.lake.session import plain_session

    session = plain_session(SparkConfig(shuffle_partitions=2), "fhirpulse-unit-tests",
                            deps.local_runtime(lakehouse=False))
    yield session
    session.stop()
