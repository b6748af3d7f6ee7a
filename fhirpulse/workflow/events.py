"""Glue Job State Change events, and the forwarder that turns the failure rule's matches into SNS alerts.

On AWS, Glue emits these events itself and the rule delivers them to the SNS topic. Locally the runner puts
the same events (source `aws.glue`, the detail fields Glue sends) on the emulated EventBridge; moto cannot
deliver a rule's match to SNS, so the rule targets the relay queue (`alerts.relay_queue`) and
`forward_alerts` publishes each match to the topic, where every subscriber receives it.
"""

from __future__ import annotations

import json

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event

SOURCE, DETAIL_TYPE = "aws.glue", "Glue Job State Change"
_SEVERITY = {"SUCCEEDED": "INFO", "RUNNING": "INFO"}


def job_state_change(job_name: str, job_run_id: str, state: str, message: str | None) -> dict:
    """A PutEvents entry shaped like Glue's own event."""
    detail = {"jobName": job_name, "severity": _SEVERITY.get(state, "ERROR"), "state": state,
              "jobRunId": job_run_id, "message": message or f"Job run {state.lower()}"}
    return {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail), "Resources": []}


def put_job_state_change(cfg: Config, job_name: str, job_run_id: str, state: str, message: str | None) -> None:
    answer = aws.client(cfg, "events").put_events(Entries=[job_state_change(job_name, job_run_id, state, message)])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the {state} event of {job_name}: {answer['Entries']}")


def alert(event: dict) -> tuple[str, str]:
    """(subject, message) of the alert for one matched event: the job, the run and the error."""
    detail = event.get("detail", {})
    job, state = detail.get("jobName", "?"), detail.get("state", "?")
    subject = f"FHIRPulse: Glue job {job} {state}"[:100]
    lines = [f"Glue job {job} ended {state}.",
             f"Job run: {detail.get('jobRunId', '?')}",
             f"Error: {detail.get('message', '')}",
             f"Time: {event.get('time', '?')}  Region: {event.get('region', '?')}",
             "", "Event:", json.dumps(event, indent=2)]
    return subject, "\n".join(lines)


def forward_alerts(cfg: Config, max_batches: int = 10) -> int:
    """Publish every event waiting in the relay queue to the alerts topic; returns how many. No relay
    queue configured (real AWS: the rule targets the topic) = nothing to do."""
    if not cfg.alerts.relay_queue:
        return 0
    sqs, sns = aws.client(cfg, "sqs"), aws.client(cfg, "sns")
    queue_url = sqs.get_queue_url(QueueName=cfg.alerts.relay_queue)["QueueUrl"]
    topic_arn = sns.create_topic(Name=cfg.alerts.sns_topic)["TopicArn"]  # idempotent: looks the topic up
    sent = 0
    for _ in range(max_batches):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            subject, text = alert(json.loads(message["Body"]))
            sns.publish(TopicArn=topic_arn, Subject=subject, Message=text)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            log_event("alerts.forwarded", subject=subject)
            sent += 1
    return sent
