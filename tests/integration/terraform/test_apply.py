"""Terraform declares what the embedded stack provisions: apply it to a fresh moto server, compare.

Runs offline with `terraform init -plugin-dir` on a filesystem mirror of hashicorp/aws (found in
$FHIRPULSE_TF_PLUGIN_DIR, /opt/tf-plugins or ~/.terraform.d/plugins); skipped, saying why, where there is no
terraform binary or no mirror.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import REPO_ROOT, load_config
from fhirpulse.stack.processes import start_moto, stop_process_group
from fhirpulse.stack.provision import provision

pytestmark = pytest.mark.integration


def _plugin_dir() -> Path | None:
    candidates = [os.environ.get("FHIRPULSE_TF_PLUGIN_DIR"), "/opt/tf-plugins",
                  str(Path.home() / ".terraform.d" / "plugins")]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def terraform_env():
    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on this machine")
    plugins = _plugin_dir()
    if plugins is None:
        pytest.skip("no filesystem mirror of the hashicorp/aws provider (set FHIRPULSE_TF_PLUGIN_DIR)")
    return plugins


def _describe(cfg) -> dict:
    """What matters of each resource, read back through the AWS APIs."""
    s3, ddb, glue = aws.client(cfg, "s3"), aws.client(cfg, "dynamodb"), aws.client(cfg, "glue")
    sns, sqs, events = aws.client(cfg, "sns"), aws.client(cfg, "sqs"), aws.client(cfg, "events")
    table = ddb.describe_table(TableName=cfg.dynamodb.ledger_table)["Table"]
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    rule = events.describe_rule(Name=cfg.alerts.job_failure_rule)
    targets = events.list_targets_by_rule(Rule=cfg.alerts.job_failure_rule)["Targets"]
    queue_url = sqs.get_queue_url(QueueName=cfg.alerts.test_queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subs = sns.list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]
    state = ddb.describe_table(TableName=cfg.workflow.state_table)["Table"]
    notifications = s3.get_bucket_notification_configuration(Bucket=cfg.s3.bucket).get("QueueConfigurations", [])
    logs = aws.client(cfg, "logs").describe_log_groups()["logGroups"]
    return {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "ledger_keys": sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
        "ledger_billing": table.get("BillingModeSummary", {}).get("BillingMode"),
        "glue_databases": sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]),
        "topics": [t.rsplit(":", 1)[1] for t in topics],
        "rule_pattern": json.loads(rule["EventPattern"]),
        "rule_state": rule["State"],
        "rule_targets": [t["Arn"].rsplit(":", 1)[1] for t in targets],
        "subscriptions": [(s["Protocol"], s["Endpoint"] == queue_arn) for s in subs],
        "workflow_state_keys": [(k["AttributeName"], k["KeyType"]) for k in state["KeySchema"]],
        "upload_notifications": [(n["QueueArn"].rsplit(":", 1)[1], n["Events"],
                                  n["Filter"]["Key"]["FilterRules"][0]["Value"]) for n in notifications],
        "log_groups": [g["logGroupName"] for g in logs],
        "workflow": glue.get_workflow(Name=cfg.workflow.name)["Workflow"].get("MaxConcurrentRuns"),
        "triggers": sorted((t["Name"], t["Type"], [a["JobName"] for a in t["Actions"]],
                            sorted((c["JobName"], c["State"]) for c in t.get("Predicate", {}).get("Conditions", [])))
                           for t in glue.get_triggers()["Triggers"]),
    }


def _fresh_moto(tmp_path: Path, name: str):
    pid, port = start_moto(tmp_path / name)
    cfg = load_config("local")
    endpoint = f"http://127.0.0.1:{port}"
    return pid, cfg.model_copy(update={"aws": cfg.aws.model_copy(update={"endpoint_url": endpoint})})


def test_terraform_apply_on_moto_declares_what_the_stack_provisions(terraform_env, tmp_path):
    work = tmp_path / "tf"
    shutil.copytree(REPO_ROOT / "terraform", work / "terraform")
    shutil.copytree(REPO_ROOT / "config", work / "config")
    tf = work / "terraform"
    tf_pid, tf_cfg = _fresh_moto(tmp_path, "moto-tf")
    py_pid, py_cfg = _fresh_moto(tmp_path, "moto-py")
    try:
        env = os.environ | {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
        init = subprocess.run(["terraform", "init", "-no-color", f"-plugin-dir={terraform_env}"], cwd=tf, env=env,
                              capture_output=True, text=True, timeout=300)
        assert init.returncode == 0, init.stdout + init.stderr
        apply = subprocess.run(["terraform", "apply", "-auto-approve", "-no-color", "-var", "target=local",
                                "-var", f"aws_endpoint_url={tf_cfg.aws.endpoint_url}"],
                               cwd=tf, env=env, capture_output=True, text=True, timeout=600)
        assert apply.returncode == 0, apply.stdout[-4000:] + apply.stderr[-4000:]
        provision(py_cfg)
        declared, provisioned = _describe(tf_cfg), _describe(py_cfg)
        assert declared == provisioned
        assert declared["buckets"] == [tf_cfg.s3.bucket]
        assert declared["subscriptions"] == [("sqs", True)]
        # the workflow follows config/workflow/pipeline.json: bronze starts it, each next job waits for the previous
        assert declared["triggers"] == [
            ("fhirpulse-local-pipeline-gold", "CONDITIONAL", ["fhirpulse-local-gold"],
             [("fhirpulse-local-silver", "SUCCEEDED")]),
            ("fhirpulse-local-pipeline-silver", "CONDITIONAL", ["fhirpulse-local-silver"],
             [("fhirpulse-local-bronze", "SUCCEEDED")]),
            ("fhirpulse-local-pipeline-start", "ON_DEMAND", ["fhirpulse-local-bronze"], []),
        ]
        assert declared["rule_targets"] == [tf_cfg.alerts.relay_queue]
        assert declared["upload_notifications"] == [(tf_cfg.workflow.trigger_queue, ["s3:ObjectCreated:*"],
                                                      f"{tf_cfg.s3.raw_prefix}/")]
    finally:
        stop_process_group(tf_pid)
        stop_process_group(py_pid)


def test_terraform_is_formatted_and_valid(terraform_env, tmp_path):
    work = tmp_path / "tf"
    shutil.copytree(REPO_ROOT / "terraform", work / "terraform")
    shutil.copytree(REPO_ROOT / "config", work / "config")
    tf = work / "terraform"
    env = os.environ | {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    fmt = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color"], cwd=tf, env=env,
                         capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    init = subprocess.run(["terraform", "init", "-backend=false", "-no-color", f"-plugin-dir={terraform_env}"],
                          cwd=tf, env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = subprocess.run(["terraform", "validate", "-no-color"], cwd=tf, env=env, capture_output=True,
                              text=True, timeout=300)
    assert validate.returncode == 0 and "Success" in validate.stdout, validate.stdout + validate.stderr
