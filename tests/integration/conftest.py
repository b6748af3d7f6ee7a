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
from fhirpulse.config import Config, load_config


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
def cfg() -> Config:
    return load_config("local")


@pytest.fixture(scope="session")
def running_stack(stack_state_dir, cfg):
    state = stack.up(cfg, with_trino=True)
    try:
        yield state
    finally:
        stack.down()


@pytest.fixture(scope="session")
def lake_spark(running_stack, cfg):
    from spark_jobs.session import build_session

    session = build_session(cfg, "fhirpulse-integration-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def trino_cursor_factory(running_stack, cfg):
    import trino

    host, port = running_stack.trino_url.removeprefix("http://").split(":")

    def make(schema: str | None = None):
        conn = trino.dbapi.connect(host=host, port=int(port), user="fhirpulse-tests", catalog=cfg.trino.catalog,
                                   schema=schema)
        return conn.cursor()

    return make
