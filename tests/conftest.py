"""Shared fixtures. Unit tests get a plain local Spark session (no jars, no services)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "fhir-samples"


@pytest.fixture(scope="session")
def spark():
    import os

    from spark_jobs.session import local_base_builder

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = local_base_builder("fhirpulse-unit-tests", master="local[2]", shuffle_partitions=2).getOrCreate()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"shared FHIR samples not found at {SAMPLES}")
    return SAMPLES
