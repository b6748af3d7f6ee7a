"""The local workflow runner: the pipeline definition's jobs in order, one workflow run at a time.

What Glue's workflow does on AWS, on the embedded stack: each job runs through its Glue entry script's code
path (`spark_jobs.entrypoints.glue_job.run` with the arguments Glue would pass) in this process, sharing one
Spark session; a job starts only when every job it waits for SUCCEEDED. Around that the runner holds the
DynamoDB lock (renewing its lease), records the run and its job states, puts a Glue Job State Change event
on EventBridge for every job state change (and relays failures to the alerts topic), writes each job's
metrics to CloudWatch Logs, and logs JSON lines to a file per run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from fhirpulse.core.config import Config
from fhirpulse.core.config.pipeline import Pipeline, PipelineJob
from fhirpulse.core.logs import log_event, log_to_file
from fhirpulse.workflow.events import forward_alerts, put_job_state_change
from fhirpulse.workflow.lock import Holder, WorkflowLock
from fhirpulse.workflow.metrics import put_job_metrics
from fhirpulse.workflow.runs import (
    FAILED,
    NOT_RUN,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    JobState,
    RunStore,
    WorkflowRun,
    new_run_id,
    now_iso,
)

if TYPE_CHECKING:
    from spark_jobs.lake.audit import AuditRecord

OnChange = Callable[[WorkflowRun], None]


def log_dir() -> Path:
    from fhirpulse.stack.state import state_dir

    return state_dir() / "logs"


def _default_session(cfg: Config, input_bytes: Callable[[], int | None]):
    from fhirpulse.stack.spark import local_session

    return cache(lambda: local_session(cfg, f"{cfg.workflow.name}", input_bytes()))


def run_input_bytes(cfg: Config, full: bool) -> int | None:
    """What a workflow run will read, for the session's JIT choice: the raw bytes bronze has still to ingest,
    plus the whole bronze lake when silver and gold rebuild from it (--full). None when it cannot be told."""
    from spark_jobs.bronze.job import new_raw_bytes
    from spark_jobs.lake.timeline import layer_bytes

    try:
        return new_raw_bytes(cfg) + (layer_bytes(cfg, "bronze") if full else 0)
    except Exception:  # noqa: BLE001 - only a tuning hint: without it the JVM keeps its default JIT
        return None


@contextmanager
def holding_the_workflow(cfg: Config, owner: str, wait_seconds: float) -> Iterator[tuple[WorkflowLock, Holder | None, Path]]:
    """What every local run of a job holds, a workflow run's or one started by hand: the workflow lock
    (renewed while the block runs; `LockHeld` past `wait_seconds`) and a JSON-lines log file of its own.
    Yields the lock, the dead holder it took over (or None) and the log file."""
    lock = WorkflowLock(cfg, owner=owner)
    previous = lock.acquire(wait_seconds)
    with lock.renewed(), log_to_file(log_dir() / f"{owner}.jsonl") as log_file:
        yield lock, previous, log_file


def run_glue_job(cfg: Config, layer: str, job_run_id: str, full: bool, session: Callable) -> AuditRecord:
    """One job through its Glue entry script's code path, with the arguments Glue would pass."""
    from spark_jobs.entrypoints import glue_job
    from spark_jobs.lake.job_args import glue_arguments

    return glue_job.run(["glue_job.py", *glue_arguments(cfg, layer, job_run_id, full)], session=session)


class Runner:
    def __init__(self, cfg: Config, pipeline: Pipeline, session: Callable | None = None,
                 on_change: OnChange | None = None):
        self.cfg, self.pipeline = cfg, pipeline
        self._full = False  # the current run's --full: the session, started by its first job, sizes for it
        self.session = session or _default_session(cfg, lambda: run_input_bytes(cfg, self._full))
        self.store = RunStore(cfg)
        self.on_change = on_change or (lambda run: None)

    def _save(self, run: WorkflowRun) -> None:
        self.store.save(run)
        self.on_change(run)

    def _job_changed(self, run: WorkflowRun, job: JobState) -> None:
        self._save(run)
        name = self.cfg.workflow.job_name(job.name)
        log_event("workflow.job_state", workflow_run_id=run.run_id, job=name, job_run_id=job.job_run_id,
                  state=job.state, seconds=job.seconds, message=job.message)
        put_job_state_change(self.cfg, name, job.job_run_id or "", job.state, job.message)
        if job.state not in (RUNNING, SUCCEEDED):
            forward_alerts(self.cfg)

    def stop_orphan(self, previous: Holder) -> WorkflowRun | None:
        """The run of a runner that died holding the lock: its running job and the run end STOPPED."""
        run = self.store.get(previous.owner)
        if run is None or run.state != RUNNING:
            return None
        reason = f"runner pid {previous.pid} on {previous.host} stopped before the run ended (its lock was taken over)"
        for job in run.jobs:
            if job.state == RUNNING:
                job.end(STOPPED, reason)
                self._job_changed(run, job)
        run.end(STOPPED)
        self._save(run)
        log_event("workflow.orphan_stopped", workflow_run_id=run.run_id, reason=reason)
        return run

    def _run_job(self, run: WorkflowRun, spec: PipelineJob, full: bool) -> JobState:
        job = JobState(spec.name, job_run_id=new_run_id("jr"), state=RUNNING, started_at=now_iso())
        run.jobs.append(job)
        self._job_changed(run, job)
        try:
            audit = run_glue_job(self.cfg, spec.name, job.job_run_id, full, self.session)
        except Exception as err:  # noqa: BLE001 - a failed job is a state of the run, not a crash of the runner
            job.end(FAILED, str(err))
        else:
            job.records_in, job.rows_out = audit.records_in, audit.rows_out
            counts = f"{audit.records_in} records in, " if audit.records_in else ""
            job.end(SUCCEEDED, f"{audit.status}: {counts}{audit.rows_out} rows out")
        self._job_changed(run, job)
        put_job_metrics(self.cfg, run.run_id, spec.name, job.state,
                        {"records_in": job.records_in or 0, "rows_out": job.rows_out or 0,
                         "seconds": job.seconds or 0.0})
        return job

    def run(self, trigger: str = "manual", wait_seconds: float = 0, full: bool = False) -> WorkflowRun:
        """One workflow run. Raises LockHeld when another run holds the lock past `wait_seconds`."""
        self._full = full
        run_id = new_run_id("wr")
        with holding_the_workflow(self.cfg, run_id, wait_seconds) as (lock, previous, log_file):
            if previous is not None:
                self.stop_orphan(previous)
            run = WorkflowRun(run_id, self.cfg.workflow.name, trigger, host=socket.gethostname(), pid=os.getpid(),
                              log_file=str(log_file))
            log_event("workflow.started", workflow_run_id=run_id, trigger=trigger, jobs=self.pipeline.names)
            self._save(run)
            try:
                for spec in self.pipeline.jobs:
                    waiting_on = [a for a in spec.after if (j := run.job(a)) is None or j.state != SUCCEEDED]
                    if waiting_on or lock.lost.is_set():
                        run.jobs.append(JobState(spec.name, state=NOT_RUN,
                                                 message=f"not run: {', '.join(waiting_on)} did not succeed"
                                                 if waiting_on else "not run: the workflow lock was lost"))
                        continue
                    self._run_job(run, spec, full)
            except BaseException:  # Ctrl-C: the run and its running job end STOPPED, then stop
                for job in run.jobs:
                    if job.state == RUNNING:
                        job.end(STOPPED, "interrupted")
                        self._job_changed(run, job)
                run.end(STOPPED)
                self._save(run)
                raise
            run.end(SUCCEEDED if all(j.state == SUCCEEDED for j in run.jobs) else FAILED)
            self._save(run)
            log_event("workflow.ended", workflow_run_id=run_id, state=run.state,
                      jobs={j.name: j.state for j in run.jobs})
        return run
