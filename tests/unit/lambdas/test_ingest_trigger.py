"""The trigger Lambda's handler: which notifications are raw uploads, and one start per event."""

import json

import pytest

from lambdas.ingest_trigger.handler import RetryLater, handle, raw_uploads

BUCKET, PREFIX = "lake-bucket", "raw/fhir"


def _s3(key: str, event: str = "ObjectCreated:Put", bucket: str = BUCKET) -> dict:
    return {"eventSource": "aws:s3", "eventName": event,
            "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}}}


def _via_sqs(*records: dict) -> dict:
    return {"eventSource": "aws:sqs", "body": json.dumps({"Records": list(records)})}


def test_direct_and_queued_notifications_give_the_raw_keys_once_each_in_order():
    event = {"Records": [
        _s3("raw/fhir/a/Patient.ndjson"),
        _via_sqs(_s3("raw/fhir/a/Encounter.ndjson"), _s3("raw/fhir/a/Patient.ndjson")),
        _via_sqs(_s3("raw/fhir/b/Observation%201.ndjson", "ObjectCreated:CompleteMultipartUpload")),
    ]}
    assert raw_uploads(event, BUCKET, PREFIX) == [
        "raw/fhir/a/Patient.ndjson", "raw/fhir/a/Encounter.ndjson", "raw/fhir/b/Observation 1.ndjson"]


@pytest.mark.parametrize("record", [
    _s3("raw/fhirx/a.ndjson"),  # a sibling prefix, not under raw/fhir/
    _s3("lake/bronze/x.parquet"),
    _s3("raw/fhir/a.ndjson", bucket="another-bucket"),
    _s3("raw/fhir/a.ndjson", event="ObjectRemoved:Delete"),
    _s3("raw/fhir/folder/"),  # a console "folder" marker
    {"eventSource": "aws:sqs", "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})},
    {"eventSource": "aws:sqs", "body": "not json"},
])
def test_what_is_not_a_raw_upload_is_ignored(record):
    assert raw_uploads({"Records": [record]}, BUCKET, PREFIX) == []


def test_one_event_starts_one_workflow_run_with_all_its_keys():
    calls = []

    def start(keys):
        calls.append(keys)
        return "wr_1"

    event = {"Records": [_via_sqs(_s3(f"raw/fhir/k{i}.ndjson")) for i in range(50)]}
    assert handle(event, BUCKET, PREFIX + "/", start) == {"started": "wr_1", "objects": 50,
                                                          "first": "raw/fhir/k0.ndjson"}
    assert len(calls) == 1 and len(calls[0]) == 50


def test_nothing_to_do_starts_nothing_and_a_busy_workflow_asks_for_a_retry():
    def busy(keys):
        raise RetryLater("running")

    assert handle({"Records": [_s3("other/x")]}, BUCKET, PREFIX, busy) == {"started": None, "objects": 0}
    with pytest.raises(RetryLater):
        handle({"Records": [_s3("raw/fhir/x.ndjson")]}, BUCKET, PREFIX, busy)
