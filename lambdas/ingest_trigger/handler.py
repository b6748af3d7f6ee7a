"""Ingest trigger: raw FHIR uploads start the FHIRPulse workflow, once per burst (python3.12, boto3 only).

On AWS the raw prefix's S3 ObjectCreated notifications go to an SQS queue that feeds this function with a
batching window: a burst of uploads arrives as one batch, and one batch starts one workflow run
(`glue:StartWorkflowRun`; the workflow allows one run at a time). When a run is already going, the batch
fails with `RetryLater`, SQS delivers it again after the visibility timeout, and a next run picks up what
the running one did not see. Locally `fhirpulse watch` polls the same kind of queue, collects a burst until
uploads stop for `debounce_seconds`, and calls `handle` with the local runner as `start_workflow`.

Environment on AWS: WORKFLOW_NAME, RAW_BUCKET, RAW_PREFIX.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from urllib.parse import unquote_plus


class RetryLater(RuntimeError):
    """The workflow is running already; the same uploads must be offered again later."""


def _s3_records(event: dict) -> Iterable[dict]:
    """S3 event records, whether S3 invoked us directly or through SQS (the body is S3's event)."""
    for record in event.get("Records", []):
        if record.get("eventSource") == "aws:s3":
            yield record
        elif record.get("eventSource") == "aws:sqs" or "body" in record:
            try:
                body = json.loads(record.get("body") or "{}")
            except ValueError:
                continue
            if isinstance(body, dict):
                yield from _s3_records(body)  # s3:TestEvent and other non-record bodies yield nothing


def raw_uploads(event: dict, bucket: str, prefix: str) -> list[str]:
    """The distinct keys of objects created under s3://bucket/prefix/ named in the event, in order."""
    prefix = prefix.rstrip("/") + "/"
    keys: dict[str, None] = {}
    for record in _s3_records(event):
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3", {})
        key = unquote_plus(s3.get("object", {}).get("key", ""))  # S3 URL-encodes keys in events
        if s3.get("bucket", {}).get("name") == bucket and key.startswith(prefix) and not key.endswith("/"):
            keys[key] = None
    return list(keys)


def handle(event: dict, bucket: str, prefix: str, start_workflow: Callable[[list[str]], str]) -> dict:
    """Start one workflow run for the raw uploads in `event` (none: nothing starts)."""
    keys = raw_uploads(event, bucket, prefix)
    if not keys:
        return {"started": None, "objects": 0}
    return {"started": start_workflow(keys), "objects": len(keys), "first": keys[0]}


def handler(event: dict, context: object) -> dict:  # the Lambda entry point
    import boto3

    glue = boto3.client("glue")
    workflow = os.environ["WORKFLOW_NAME"]

    def start(keys: list[str]) -> str:
        try:
            return glue.start_workflow_run(Name=workflow)["RunId"]
        except glue.exceptions.ConcurrentRunsExceededException as err:
            raise RetryLater(f"workflow {workflow} is running; {len(keys)} uploads wait for the next run") from err

    result = handle(event, os.environ["RAW_BUCKET"], os.environ["RAW_PREFIX"], start)
    print(json.dumps({"event": "trigger.handled", **result}))  # the function's CloudWatch log
    return result
