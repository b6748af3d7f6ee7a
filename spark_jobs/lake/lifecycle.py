"""The run lifecycle every layer's job shares: run id, audit row, final status, crash points, log events.

    with JobRun(cfg, "silver", session_factory) as run:
        run.event("read", rows=n)              # one JSON log line: {"event": "silver.read", "run_id": ...}
        run.crash_point("after_commit")        # FHIRPULSE_CRASH_AT=silver_after_commit kills the process here
        run.audit.rows_out = n
        run.finish("NOTHING_NEW")              # optional; a block that ends normally is SUCCEEDED

The audit row lands in the layer's own audit table when the block ends, whatever the outcome. An exception
in the block is recorded as FAILED with its message and re-raised as `JobError`, naming the run.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession

from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event
from spark_jobs.lake.audit import AuditRecord, new_run_id, write_audit
from spark_jobs.lake.faults import crash_point

SUCCEEDED, FAILED, NOTHING_NEW = "SUCCEEDED", "FAILED", "NOTHING_NEW"


class JobError(RuntimeError):
    """A job run failed; the message names the layer, the run and the reason."""


class JobRun:
    def __init__(self, cfg: Config, layer: str, session: Callable[[], SparkSession], run_id: str | None = None):
        self.cfg = cfg
        self.layer = layer
        self.audit = AuditRecord(run_id or new_run_id(layer), layer)
        self._session = session
        self._spark: SparkSession | None = None
        self._status = SUCCEEDED

    @property
    def run_id(self) -> str:
        return self.audit.run_id

    @property
    def spark(self) -> SparkSession:
        """The Spark session, started on first use (a run with nothing to do may not need Spark at all)."""
        if self._spark is None:
            self._spark = self._session()
        return self._spark

    def event(self, step: str, level: int = logging.INFO, **fields: Any) -> None:
        log_event(f"{self.layer}.{step}", level, run_id=self.run_id, **fields)

    def crash_point(self, name: str) -> None:
        crash_point(f"{self.layer}_{name}")

    def finish(self, status: str) -> None:
        """The status the run ends with if the block completes (default SUCCEEDED)."""
        self._status = status

    def __enter__(self) -> JobRun:
        self.event("started")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            write_audit(self.spark, self.cfg, self.audit.finish(self._status))
            return False
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: no audit row, just stop
            return False
        message = f"{type(exc).__name__}: {exc}"
        self.audit.finish(FAILED, message)
        self.event("failed", logging.ERROR, error=message,
                   traceback="".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            write_audit(self.spark, self.cfg, self.audit)
        except Exception as audit_err:  # noqa: BLE001 - the job's own error is what must reach the caller
            self.event("audit_failed", logging.ERROR, error=f"{type(audit_err).__name__}: {audit_err}")
        raise JobError(f"{self.layer} run {self.run_id} failed: {message}") from exc
