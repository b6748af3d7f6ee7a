"""Per-run metrics where CloudWatch Logs keeps them on AWS: one log stream per workflow run in the
configured group, one Embedded Metric Format line per job (records, rows, seconds), so CloudWatch turns
them into metrics on AWS and `aws logs get-log-events` reads them on the emulator."""

from __future__ import annotations

import contextlib
import json
import time

from fhirpulse.core import aws
from fhirpulse.core.config import Config

NAMESPACE = "FHIRPulse"


def emf_record(workflow: str, run_id: str, job: str, state: str, metrics: dict[str, float]) -> dict:
    units = {"seconds": "Seconds"}
    return {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [["Workflow", "Job"]],
            "Metrics": [{"Name": name, "Unit": units.get(name, "Count")} for name in metrics]}]},
        "Workflow": workflow, "Job": job, "workflow_run_id": run_id, "state": state, **metrics,
    }


def put_job_metrics(cfg: Config, run_id: str, job: str, state: str, metrics: dict[str, float]) -> None:
    logs = aws.client(cfg, "logs")
    group = cfg.workflow.log_group
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=run_id)
    record = emf_record(cfg.workflow.name, run_id, job, state, metrics)
    logs.put_log_events(logGroupName=group, logStreamName=run_id,
                        logEvents=[{"timestamp": record["_aws"]["Timestamp"], "message": json.dumps(record)}])


def read_job_metrics(cfg: Config, run_id: str) -> list[dict]:
    events = aws.client(cfg, "logs").get_log_events(logGroupName=cfg.workflow.log_group, logStreamName=run_id,
                                                    startFromHead=True)["events"]
    return [json.loads(e["message"]) for e in events]
