"""The run lifecycle every layer's job shares: run id, audit row, final status, crash points, log events.

    with JobRun(cfg, "silver", session_factory) as run:
        run.event("read", rows=n)              # one JSON log line: {"event": "silver.read", "run_id": ...}
        run.crash_point("after_commit")        # FHIRPULSE_CRASH_AT=silver_after_commit kills the process here
        run.audit.rows_out = n
        run.finish("NOTHING_NEW")              # optional; a block that ends normally is SUCCEEDED

The audit row lands in the layer's own audit table when the block ends, whatever the outcome (one S3 object:
a run that never touched Spark does not start it for its audit row). An exception
in the block is recorded as FAILED with its message and re-raised as `JobError`, naming the run.

One run per layer at a time: the run holds its layer's lease (an item in the ledger table, renewed by a
heartbeat) from start to end, because Hudi tables here have a single writer. A second run waits for it
(`workflow.job_wait_seconds`), then fails with one line naming the holder. A run that finds its
predecessor dead (its pid gone on this machine, or its lease expired) recovers: it rolls back the Hudi
instants the dead run left unfinished in the layer's tables and says so in its audit row
(`details.recovered`).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from pyspark.sql import SparkSession

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.lease import Lease, LockHeld
from fhirpulse.core.logs import log_event
from spark_jobs.lake import timeline
from spark_jobs.lake.audit import AuditRecord, new_run_id, write_audit
from spark_jobs.lake.checkpoints import CHECKPOINT_VERSION
from spark_jobs.lake.faults import crash_point

SUCCEEDED, FAILED, NOTHING_NEW = "SUCCEEDED", "FAILED", "NOTHING_NEW"


class JobError(RuntimeError):
    """A job run failed; the message names the layer, the run and the reason."""


def layer_lease(cfg: Config, layer: str, owner: str) -> Lease:
    """The lease a layer's job run holds: an item of the ledger table (the jobs' role may write it on AWS)."""
    key = {"object_key": {"S": f"lease#{layer}"}, "content_version": {"S": CHECKPOINT_VERSION}}
    return Lease(aws.client(cfg, "dynamodb"), cfg.dynamodb.ledger_table, key, f"the {layer} job", owner,
                 cfg.workflow.lease_seconds)


class JobRun:
    def __init__(self, cfg: Config, layer: str, session: Callable[[], SparkSession], run_id: str | None = None):
        self.cfg = cfg
        self.layer = layer
        self.audit = AuditRecord(run_id or new_run_id(layer), layer)
        self._session = session
        self._spark: SparkSession | None = None
        self._status = SUCCEEDED
        self._lease = layer_lease(cfg, layer, self.audit.run_id)
        self._renewal = self._lease.renewed()
        self._points_passed: set[str] = set()
        self._points_lock = threading.Lock()

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

    def first_crash_point(self, name: str) -> None:
        """`crash_point` the first time a thread of this run passes it: "one of the concurrent writes is
        done, the others not yet (or mid-write)"."""
        with self._points_lock:
            if name in self._points_passed:
                return
            self._points_passed.add(name)
        self.crash_point(name)

    def finish(self, status: str) -> None:
        """The status the run ends with if the block completes (default SUCCEEDED)."""
        self._status = status

    def __enter__(self) -> JobRun:
        try:
            predecessor = self._lease.acquire(self.cfg.workflow.job_wait_seconds)
        except LockHeld as err:
            raise JobError(f"{self.layer} run {self.run_id} did not start: {err} "
                           f"(waited {self.cfg.workflow.job_wait_seconds:g} s)") from None
        self._renewal.__enter__()
        self.event("started")
        try:
            if predecessor is not None:
                self._recover(predecessor.owner)
        except BaseException:
            self._renewal.__exit__(None, None, None)
            raise
        return self

    def _recover(self, dead_run: str) -> None:
        """The previous holder died mid-run: roll back what it left unfinished in this layer's tables."""
        rolled_back = {path.rsplit("/", 1)[-1]: instants
                       for path in timeline.layer_table_paths(self.spark, self.cfg, self.layer)
                       if (instants := timeline.rollback_failed_writes(self.spark, path))}
        self.audit.details["recovered"] = {"dead_run": dead_run, "rolled_back": rolled_back}
        self.event("recovered", logging.WARNING, dead_run=dead_run, rolled_back=rolled_back)

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            return self._close(exc_type, exc, tb)
        finally:
            self._renewal.__exit__(None, None, None)

    def _close(self, exc_type, exc, tb) -> bool:
        if exc is None:
            self.crash_point("before_audit")
            write_audit(self.cfg, self.audit.finish(self._status))
            return False
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: no audit row, just stop
            return False
        message = f"{type(exc).__name__}: {exc}"
        self.audit.finish(FAILED, message)
        self.event("failed", logging.ERROR, error=message,
                   traceback="".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            write_audit(self.cfg, self.audit)
        except Exception as audit_err:  # noqa: BLE001 - the job's own error is what must reach the caller
            self.event("audit_failed", logging.ERROR, error=f"{type(audit_err).__name__}: {audit_err}")
        raise JobError(f"{self.layer} run {self.run_id} failed: {message}") from exc
