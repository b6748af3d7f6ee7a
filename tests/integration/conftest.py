"""The embedded stack, started once per test session in its own state directory, torn down at the end.

Integration tests run in their own pytest process (see the Makefile): the lakehouse Spark session carries
the Hudi/S3A jars, which a plain unit-test session started earlier in the same JVM would not.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from fhirpulse import stack
from fhirpulse.core.config import Config, load_config


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
    return stack.bind(load_config("local"))


@pytest.fixture(scope="session")
def lake_spark(cfg):
    from fhirpulse import deps
    from spark_jobs.lake.session import build_session

    session = build_session(cfg, "fhirpulse-integration-tests", deps.local_runtime())
    yield session
    session.stop()


@pytest.fixture(scope="session")
def trino_cursor_factory(running_stack, cfg):
    from fhirpulse.stack.sql import trino_cursor

    def make(schema: str | None = None):
        return trino_cursor(running_stack.trino_url, cfg.trino.catalog, schema, user="fhirpulse-tests")

    return make
