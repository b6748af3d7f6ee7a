"""The trigger Lambda's real entry point (`lambdas/ingest_trigger/handler.handler`) against the moto server over
HTTP, configured as on AWS: its environment variables (WORKFLOW_NAME, RAW_BUCKET, RAW_PREFIX) and boto3's
default chain, pointed at moto with AWS_ENDPOINT_URL. The Glue workflow, bucket notification and uploads
queue are the ones provisioning creates; the test plays Lambda's SQS poller: it receives the queue's messages
as one batch, invokes the handler with them, deletes them when it returns and leaves them when it raises.

- an upload starts one workflow run (Glue's GetWorkflowRuns shows it RUNNING);
- a batch that meets the running workflow raises RetryLater and starts nothing; its messages come back after
  their visibility timeout and, once the run has ended, the same batch starts the next run (the README's
  "the batch fails, SQS delivers it again").

moto 5.2.5 stores a workflow's MaxConcurrentRuns but does not enforce it (StartWorkflowRun always succeeds),
and its runs never end (no job runs; StopWorkflowRun is a no-op). AWS refuses a start with
ConcurrentRunsExceededException, so `GlueRunLimit` sends that refusal in AWS's error shape, from moto's own
state (the workflow's MaxConcurrentRuns and its RUNNING runs, less those the test has ended), through the
boto3 client the handler creates; everything else is moto's.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from fhirpulse.core import aws
from lambdas.ingest_trigger import handler as trigger
from tests.integration.helpers import isolated_env

pytestmark = pytest.mark.integration
ENV = "trigtest"
IN_FLIGHT = 2  # seconds a received batch stays invisible (the queue's own timeout is Lambda's 900 s)


@pytest.fixture(scope="module")
def env(running_stack, tmp_path_factory):
    with isolated_env(ENV, tmp_path_factory.mktemp("config")) as cfg:
        yield cfg


class GlueRunLimit:
    """AWS's MaxConcurrentRuns for StartWorkflowRun, which moto does not enforce, on every Glue client of a
    boto3 session: the call is refused before it reaches moto where the workflow (read from moto) already
    has MaxConcurrentRuns RUNNING runs; `end(run_id)` stands for the run finishing."""

    def __init__(self, session: boto3.session.Session, glue):
        self.glue, self.ended = glue, set()
        session.events.register("before-call.glue.StartWorkflowRun", self.refuse)

    def end(self, name: str, run_id: str) -> None:
        self.glue.stop_workflow_run(Name=name, RunId=run_id)  # accepted by moto, which changes nothing
        self.ended.add(run_id)

    def active(self, name: str) -> list[str]:
        return [r["WorkflowRunId"] for r in self.glue.get_workflow_runs(Name=name)["Runs"]
                if r["Status"] == "RUNNING" and r["WorkflowRunId"] not in self.ended]

    def refuse(self, model, params, **_):
        name = json.loads(params["body"])["Name"]  # the serialized request (Glue speaks JSON)
        limit = self.glue.get_workflow(Name=name)["Workflow"].get("MaxConcurrentRuns")
        if limit is None or len(self.active(name)) < limit:
            return None
        error = {"Error": {"Code": "ConcurrentRunsExceededException",
                           "Message": f"Concurrent runs exceeded for workflow: {name}"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://glue.amazonaws.com/", 400, {}, None), error


@pytest.fixture()
def lambda_env(env, monkeypatch):
    """The function's environment on AWS (the variables Terraform and provisioning set), plus the endpoint,
    region and keys the Lambda runtime would give it; a fresh boto3 default session, as in a new container."""
    variables = {"WORKFLOW_NAME": env.workflow.name, "RAW_BUCKET": env.s3.bucket, "RAW_PREFIX": env.s3.raw_prefix,
                 "AWS_ENDPOINT_URL": aws.endpoint_url(env), "AWS_DEFAULT_REGION": env.region,
                 "AWS_ACCESS_KEY_ID": env.aws.access_key_id or "test",
                 "AWS_SECRET_ACCESS_KEY": env.aws.secret_access_key or "test"}
    for service, url in env.aws.service_endpoints.items():
        variables[f"AWS_ENDPOINT_URL_{service.upper()}"] = url
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    return env, GlueRunLimit(boto3.DEFAULT_SESSION, aws.client(env, "glue"))


def _poll(cfg, wanted: int, timeout: float = 30.0) -> list[dict]:
    """Lambda's SQS poller: the queue's messages as one batch (at least `wanted` S3 records), in flight."""
    sqs = aws.client(cfg, "sqs")
    url = sqs.get_queue_url(QueueName=cfg.workflow.trigger_queue)["QueueUrl"]
    batch: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     VisibilityTimeout=IN_FLIGHT, AttributeNames=["All"]).get("Messages", []):
            batch[m["MessageId"]] = m
        records = [r for m in batch.values() for r in json.loads(m["Body"]).get("Records", [])]
        if len(records) >= wanted:
            return list(batch.values())
    raise AssertionError(f"{len(batch)} messages in {timeout} s, {wanted} S3 records wanted")


def _event(cfg, messages: list[dict]) -> dict:
    """The event Lambda's SQS event source mapping hands the function."""
    arn = f"arn:aws:sqs:{cfg.region}:000000000000:{cfg.workflow.trigger_queue}"
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                         "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": cfg.region}
                        for m in messages]}


def _delete(cfg, messages: list[dict]) -> None:
    sqs = aws.client(cfg, "sqs")
    url = sqs.get_queue_url(QueueName=cfg.workflow.trigger_queue)["QueueUrl"]
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _upload(cfg, name: str) -> str:
    key = f"{cfg.s3.raw_prefix}/{name}"
    aws.client(cfg, "s3").put_object(Bucket=cfg.s3.bucket, Key=key,
                                     Body=b'{"resourceType":"Patient","id":"p1"}\n')
    return key


def _runs(cfg) -> list[dict]:
    return aws.client(cfg, "glue").get_workflow_runs(Name=cfg.workflow.name)["Runs"]


def test_an_upload_starts_the_workflow_and_a_batch_meeting_the_running_run_is_delivered_again(lambda_env):
    cfg, limit = lambda_env
    glue = aws.client(cfg, "glue")
    assert glue.get_workflow(Name=cfg.workflow.name)["Workflow"]["MaxConcurrentRuns"] == 1  # provisioning's
    assert _runs(cfg) == []

    first_key = _upload(cfg, "batch-1/Patient.ndjson")
    first = _poll(cfg, wanted=1)
    result = trigger.handler(_event(cfg, first), None)
    _delete(cfg, first)  # the handler returned: the poller deletes the batch
    assert result["objects"] == 1 and result["first"] == first_key
    runs = _runs(cfg)
    assert [(r["WorkflowRunId"], r["Status"]) for r in runs] == [(result["started"], "RUNNING")]

    # uploads while that run is going: the batch fails and starts nothing
    second_keys = [_upload(cfg, f"batch-2/Encounter.{i}.ndjson") for i in range(3)]
    second = _poll(cfg, wanted=3)
    with pytest.raises(trigger.RetryLater, match=f"workflow {cfg.workflow.name} is running; 3 uploads wait"):
        trigger.handler(_event(cfg, second), None)
    assert [r["WorkflowRunId"] for r in _runs(cfg)] == [result["started"]]

    # the run ends; the failed batch's messages come back after their visibility timeout, the same ones
    limit.end(cfg.workflow.name, result["started"])
    assert limit.active(cfg.workflow.name) == []
    time.sleep(IN_FLIGHT + 0.5)
    again = _poll(cfg, wanted=3)
    assert {m["MessageId"] for m in again} == {m["MessageId"] for m in second}
    assert all(int(m["Attributes"]["ApproximateReceiveCount"]) >= 2 for m in again)
    retried = trigger.handler(_event(cfg, again), None)
    _delete(cfg, again)
    assert retried["objects"] == 3 and retried["first"] in second_keys and retried["started"] != result["started"]
    runs = {r["WorkflowRunId"]: r["Status"] for r in _runs(cfg)}
    assert set(runs) == {result["started"], retried["started"]} and runs[retried["started"]] == "RUNNING"
    assert limit.active(cfg.workflow.name) == [retried["started"]]


def test_a_batch_without_raw_uploads_starts_nothing(lambda_env):
    """S3's test event (sent when a notification is configured) is no upload."""
    cfg, _ = lambda_env
    before = len(_runs(cfg))
    event = {"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": json.dumps(
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": cfg.s3.bucket})}]}
    assert trigger.handler(event, None) == {"started": None, "objects": 0}
    assert len(_runs(cfg)) == before
