"""Workflow run records (what Glue's GetWorkflowRuns answers on AWS): one DynamoDB item per run, with the
state and duration of each of its jobs. Only the lock holder writes a run, so a whole-item put is safe."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from fhirpulse.core import aws
from fhirpulse.core.config import Config

# Job states are Glue's (plus NOT_RUN: a predecessor did not succeed); a workflow run ends SUCCEEDED only
# when every job did.
RUNNING, SUCCEEDED, FAILED, STOPPED, NOT_RUN = "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "NOT_RUN"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id(prefix: str) -> str:
    return f"{prefix}_{datetime.now(UTC):%Y%m%dT%H%M%SZ}_{uuid.uuid4().hex[:8]}"


@dataclass
class JobState:
    name: str
    job_run_id: str | None = None
    state: str = NOT_RUN
    started_at: str | None = None
    ended_at: str | None = None
    seconds: float | None = None
    message: str | None = None
    records_in: int | None = None
    rows_out: int | None = None

    def end(self, state: str, message: str | None = None) -> None:
        self.state, self.message, self.ended_at = state, message, now_iso()
        if self.started_at:
            elapsed = datetime.fromisoformat(self.ended_at) - datetime.fromisoformat(self.started_at)
            self.seconds = round(elapsed.total_seconds(), 1)


@dataclass
class WorkflowRun:
    run_id: str
    workflow: str
    trigger: str
    state: str = RUNNING
    started_at: str = field(default_factory=now_iso)
    ended_at: str | None = None
    host: str = ""
    pid: int = 0
    log_file: str | None = None
    jobs: list[JobState] = field(default_factory=list)

    def job(self, name: str) -> JobState | None:
        return next((j for j in self.jobs if j.name == name), None)

    def end(self, state: str) -> None:
        self.state, self.ended_at = state, now_iso()

    def summary(self) -> dict:
        """The `fhirpulse status --format json` shape."""
        return {"run_id": self.run_id, "state": self.state, "trigger": self.trigger, "started_at": self.started_at,
                "ended_at": self.ended_at,
                "jobs": [{"name": j.name, "state": j.state, "seconds": j.seconds, "job_run_id": j.job_run_id,
                          "message": j.message} for j in self.jobs]}

    @staticmethod
    def from_item(item: dict) -> WorkflowRun:
        data = json.loads(item["run"]["S"])
        jobs = [JobState(**j) for j in data.pop("jobs")]
        return WorkflowRun(**data, jobs=jobs)


class RunStore:
    def __init__(self, cfg: Config):
        self._ddb = aws.client(cfg, "dynamodb")
        self._table = cfg.workflow.state_table
        self._workflow = cfg.workflow.name

    def save(self, run: WorkflowRun) -> None:
        self._ddb.put_item(TableName=self._table, Item={
            "pk": {"S": f"run#{run.run_id}"}, "kind": {"S": "run"}, "workflow": {"S": run.workflow},
            "started_at": {"S": run.started_at}, "run": {"S": json.dumps(asdict(run))}})

    def get(self, run_id: str) -> WorkflowRun | None:
        item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": f"run#{run_id}"}},
                                  ConsistentRead=True).get("Item")
        return WorkflowRun.from_item(item) if item else None

    def recent(self, limit: int = 10) -> list[WorkflowRun]:
        """This workflow's runs, newest first (a scan: the table holds one small item per run)."""
        items, kwargs = [], {}
        while True:
            page = self._ddb.scan(TableName=self._table, FilterExpression="kind = :run AND workflow = :wf",
                                  ExpressionAttributeValues={":run": {"S": "run"}, ":wf": {"S": self._workflow}},
                                  **kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        items.sort(key=lambda i: i["started_at"]["S"], reverse=True)
        return [WorkflowRun.from_item(i) for i in items[:limit]]
