"""Glue Job State Change events, the alert they become, and the metric records."""

import json

from fhirpulse.workflow.events import DETAIL_TYPE, alert, job_state_change
from fhirpulse.workflow.metrics import emf_record


def test_a_state_change_is_shaped_like_glue_s_own_event():
    entry = job_state_change("fhirpulse-local-silver", "jr_1", "FAILED", "silver run jr_1 failed: boom")
    assert (entry["Source"], entry["DetailType"]) == ("aws.glue", DETAIL_TYPE) == ("aws.glue", "Glue Job State Change")
    assert json.loads(entry["Detail"]) == {"jobName": "fhirpulse-local-silver", "severity": "ERROR",
                                           "state": "FAILED", "jobRunId": "jr_1",
                                           "message": "silver run jr_1 failed: boom"}
    assert json.loads(job_state_change("j", "jr_2", "SUCCEEDED", None)["Detail"])["severity"] == "INFO"


def test_the_alert_names_the_job_the_run_and_the_error():
    event = {"time": "2026-12-04T10:00:00Z", "region": "us-east-1", "source": "aws.glue",
             "detail": json.loads(job_state_change("fhirpulse-local-gold", "jr_9", "TIMEOUT", "took too long")[
                 "Detail"])}
    subject, text = alert(event)
    assert subject == "FHIRPulse: Glue job fhirpulse-local-gold TIMEOUT"
    assert text.splitlines()[:3] == ["Glue job fhirpulse-local-gold ended TIMEOUT.", "Job run: jr_9",
                                     "Error: took too long"]
    assert len(alert({"detail": {"jobName": "x" * 200, "state": "FAILED"}})[0]) == 100  # SNS subject limit


def test_metrics_are_embedded_metric_format():
    record = emf_record("wf", "wr_1", "bronze", "SUCCEEDED", {"records_in": 10, "seconds": 2.5})
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "FHIRPulse" and directive["Dimensions"] == [["Workflow", "Job"]]
    assert directive["Metrics"] == [{"Name": "records_in", "Unit": "Count"}, {"Name": "seconds", "Unit": "Seconds"}]
    assert (record["Workflow"], record["Job"], record["records_in"], record["seconds"]) == ("wf", "bronze", 10, 2.5)
