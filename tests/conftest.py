"""Shared fixtures: the FHIR samples nobody here wrote, a plain local Spark session for unit tests, and the
embedded stack for the integration and reliability suites (started once per pytest session in its own state
directory, torn down at the end; only tests that ask for it start it).

Unit and stack tests run in separate pytest processes (see the Makefile): the lakehouse Spark session carries
the Hudi/S3A jars, which a plain unit-test session started earlier in the same JVM would not.

The samples are found through one setting, FHIRPULSE_SAMPLES (default: ../shared/fhir-samples beside the
checkout). Where they are missing, the tests that need them skip with the reason; under CI=true they fail,
unless FHIRPULSE_SAMPLES_OPTIONAL=1 says that this CI has no samples (a fork's GitHub workflow).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from fhirpulse import stack
from fhirpulse.core.config import Config, SparkConfig, load_config

REPO = Path(__file__).resolve().parent.parent
SAMPLES_VAR = "FHIRPULSE_SAMPLES"
SAMPLES_OPTIONAL_VAR = "FHIRPULSE_SAMPLES_OPTIONAL"


def samples_dir() -> Path:
    return Path(os.environ.get(SAMPLES_VAR) or REPO.parent / "shared" / "fhir-samples")


def samples_must_exist() -> bool:
    """Missing samples fail the tests under CI=true (a CI that has them must run them), unless
    FHIRPULSE_SAMPLES_OPTIONAL=1 says that this CI runs without them on purpose."""
    return os.environ.get("CI") == "true" and os.environ.get(SAMPLES_OPTIONAL_VAR) != "1"


def require_samples(subfolder: str = "") -> Path:
    """The samples folder (or one of its subfolders); skips the test where it is missing (fails under CI,
    unless FHIRPULSE_SAMPLES_OPTIONAL=1)."""
    path = samples_dir() / subfolder
    if path.exists():
        return path
    message = (f"FHIR samples not found at {path}: set {SAMPLES_VAR} to the fhir-samples folder "
               "(Synthea bulk + bundles, R4 examples, SQL-on-FHIR v2 tests)")
    if samples_must_exist():
        pytest.fail(message)
    pytest.skip(message)


def pytest_report_header(config) -> str:
    found = "found" if samples_dir().is_dir() else (
        f"MISSING: tests that need them {'fail' if samples_must_exist() else 'skip'}; set {SAMPLES_VAR}")
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

@pytest.fixture(scope="session")
def stack_state_dir():
    previous = os.environ.get("FHIRPULSE_STATE_DIR")
    with tempfile.TemporaryDirectory(prefix="fhirpulse-it-") as tmp:
        os.environ["FHIRPULSE_STATE_DIR"] = tmp
        try:
            yield Path(tmp)
        finally:
            if previous is None:
                os.environ.pop("FHIRPULSE_STATE_DIR", None)
            else:
                os.environ["FHIRPULSE_STATE_DIR"] = previous


@pytest.fixture(scope="session")
def running_stack(stack_state_dir):
    state = stack.up(load_config("local"), with_trino=True)
    try:
        yield state
    finally:
        stack.down()


@pytest.fixture(scope="session")
def cfg(running_stack) -> Config:
    """config/local.json bound to the running stack, as the CLI hands it to job code."""
    return stack.resolve_stack_values(load_config("local"))


@pytest.fixture(scope="session")
def lake_spark(cfg):
    from fhirpulse.stack.spark import local_session

    session = local_session(cfg, "fhirpulse-integration-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def trino_cursor_factory(running_stack, cfg):
    from fhirpulse.stack.sql import trino_cursor

    def make(schema: str | None = None):
        return trino_cursor(running_stack.trino_url, cfg.trino.catalog, schema, user="fhirpulse-tests")

    return make
