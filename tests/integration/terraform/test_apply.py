"""Terraform declares what the embedded stack provisions: apply it to a fresh moto server, provision another
with `fhirpulse.stack.provision`, read both back through the AWS APIs and compare; then check with boto3 the
parts only Terraform declares (Glue jobs, the trigger Lambda, their roles), and destroy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import load_config
from fhirpulse.core.config.pipeline import load_pipeline
from fhirpulse.deploy.package import LIBRARY_ZIP
from fhirpulse.stack.processes import start_moto, stop_process_group
from fhirpulse.stack.provision import provision
from spark_jobs.entrypoints import glue_job
from tests.integration.terraform.conftest import make_root

pytestmark = pytest.mark.integration


def _fresh_moto(tmp_path: Path, name: str):
    (tmp_path / name).mkdir()
    pid, port = start_moto(tmp_path / name)
    return pid, load_config("local").with_endpoint(f"http://127.0.0.1:{port}")


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[1]


def _describe(cfg) -> dict:
    """Everything both sides declare, read back through the AWS APIs (names, settings and policies)."""
    s3, ddb, glue = aws.client(cfg, "s3"), aws.client(cfg, "dynamodb"), aws.client(cfg, "glue")
    sns, sqs, events = aws.client(cfg, "sns"), aws.client(cfg, "sqs"), aws.client(cfg, "events")
    bucket = cfg.s3.bucket
    tables = {}
    for name in ddb.list_tables()["TableNames"]:
        table = ddb.describe_table(TableName=name)["Table"]
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        tables[name] = {"keys": sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
                        "billing": table.get("BillingModeSummary", {}).get("BillingMode"),
                        "pitr": backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]}
    topics = {}
    for topic in sns.list_topics()["Topics"]:
        arn = topic["TopicArn"]
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        topics[_queue_name(arn)] = {
            "policy": json.loads(attributes["Policy"]),
            "subscriptions": sorted((s["Protocol"], _queue_name(s["Endpoint"]), sns.get_subscription_attributes(
                SubscriptionArn=s["SubscriptionArn"])["Attributes"].get("RawMessageDelivery")) for s in subs)}
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues[url.rsplit("/", 1)[1]] = {"policy": json.loads(attributes.get("Policy", "null")),
                                         "sse": attributes.get("SqsManagedSseEnabled"),
                                         "visibility": attributes["VisibilityTimeout"]}
    rules = {}
    for rule in events.list_rules()["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        rules[rule["Name"]] = {"pattern": json.loads(rule["EventPattern"]), "state": rule["State"],
                               "description": rule.get("Description"),
                               "targets": sorted((t["Id"], _queue_name(t["Arn"])) for t in targets)}
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations", [])
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    return {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "public_access_block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"],
        "lifecycle": sorted((r["ID"], r["Status"], r.get("AbortIncompleteMultipartUpload")) for r in lifecycle),
        "tables": tables,
        "topics": topics,
        "queues": queues,
        "rules": rules,
        "glue_databases": sorted((d["Name"], d.get("LocationUri"), d.get("Description"))
                                 for d in glue.get_databases()["DatabaseList"]),
        "upload_notifications": [(_queue_name(n["QueueArn"]), n["Events"], n["Filter"]["Key"]["FilterRules"])
                                 for n in notifications],
        "log_groups": sorted((g["logGroupName"], g.get("retentionInDays"))
                             for g in aws.client(cfg, "logs").describe_log_groups()["logGroups"]),
        "workflow": glue.get_workflow(Name=cfg.workflow.name)["Workflow"].get("MaxConcurrentRuns"),
        "triggers": sorted((t["Name"], t["Type"], [a["JobName"] for a in t["Actions"]],
                            sorted((c["JobName"], c["State"]) for c in t.get("Predicate", {}).get("Conditions", [])))
                           for t in glue.get_triggers()["Triggers"]),
    }


def _without_compute(described: dict, cfg) -> dict:
    """Terraform's side minus what only it declares (the Glue jobs' and the Lambda's log groups)."""
    jobs_logs = f"/aws-glue/jobs/{cfg.workflow.name}"
    lambda_logs = f"/aws/lambda/{cfg.workflow.name}-trigger"
    return described | {"log_groups": [g for g in described["log_groups"] if g[0] not in (jobs_logs, lambda_logs)]}


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def _role_statements(cfg) -> dict[str, list[dict]]:
    iam = aws.client(cfg, "iam")
    out = {}
    for role in iam.list_roles()["Roles"]:
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            out[role["RoleName"]] = [s | {"Action": _as_list(s["Action"]), "Resource": _as_list(s["Resource"])}
                                     for s in document["Statement"]]
    return out


def _check_compute(cfg, root_dir: Path) -> None:
    """The Glue jobs, their files, the trigger Lambda and the roles, as declared (enable_compute=true)."""
    glue, s3 = aws.client(cfg, "glue"), aws.client(cfg, "s3")
    pipeline = load_pipeline()
    script = s3.get_object(Bucket=cfg.s3.bucket, Key=f"{cfg.s3.scripts_prefix}/glue_job.py")["Body"].read()
    assert script == Path(glue_job.__file__).read_bytes()
    library = s3.get_object(Bucket=cfg.s3.bucket, Key=f"{cfg.s3.scripts_prefix}/{LIBRARY_ZIP.name}")["Body"].read()
    assert hashlib.md5(library).digest() == hashlib.md5((root_dir.parent / "dist" / LIBRARY_ZIP).read_bytes()).digest()
    for spec in pipeline.jobs:
        job = glue.get_job(JobName=cfg.workflow.job_name(spec.name))["Job"]
        assert job["GlueVersion"] == "5.0"
        assert job["Command"]["ScriptLocation"] == f"s3://{cfg.s3.bucket}/{cfg.s3.scripts_prefix}/glue_job.py"
        assert job["DefaultArguments"]["--fhirpulse_job"] == spec.name
        assert job["Role"].endswith(f"role/{cfg.workflow.name}-glue-jobs")
    function = aws.client(cfg, "lambda").get_function(FunctionName=f"{cfg.workflow.name}-trigger")["Configuration"]
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "handler.handler")
    assert function["Environment"]["Variables"] == {"WORKFLOW_NAME": cfg.workflow.name,
                                                    "RAW_BUCKET": cfg.s3.bucket, "RAW_PREFIX": cfg.s3.raw_prefix}
    mappings = aws.client(cfg, "lambda").list_event_source_mappings(FunctionName=function["FunctionArn"])
    assert [_queue_name(m["EventSourceArn"]) for m in mappings["EventSourceMappings"]] == [cfg.workflow.trigger_queue]

    # least privilege: no wildcard actions; "*" resources only under a condition (PutMetricData has none)
    roles = _role_statements(cfg)
    assert sorted(roles) == sorted([f"{cfg.workflow.name}-glue-jobs", f"{cfg.workflow.name}-trigger"])
    for statements in roles.values():
        for s in statements:
            assert not any(a == "*" or a.endswith(":*") for a in s["Action"]), s
            assert s["Resource"] != ["*"] or s.get("Condition"), s
    trigger = roles[f"{cfg.workflow.name}-trigger"]
    actions = {a for s in trigger for a in s["Action"]}
    assert {a for a in actions if a.startswith("glue:")} == {"glue:StartWorkflowRun"}
    assert {r for s in trigger if "glue:StartWorkflowRun" in s["Action"] for r in s["Resource"]} == {
        glue.get_workflow(Name=cfg.workflow.name)["Workflow"].get("Arn")
        or f"arn:aws:glue:{cfg.region}:123456789012:workflow/{cfg.workflow.name}"}
    assert not any(a.startswith(("s3:", "dynamodb:", "iam:")) for a in actions)
    jobs = roles[f"{cfg.workflow.name}-glue-jobs"]
    bucket = f"arn:aws:s3:::{cfg.s3.bucket}"
    s3_resources = {r for s in jobs if any(a.startswith("s3:") for a in s["Action"]) for r in s["Resource"]}
    assert s3_resources == {bucket, f"{bucket}/{cfg.s3.raw_prefix}/*", f"{bucket}/{cfg.s3.scripts_prefix}/*",
                            f"{bucket}/{cfg.s3.lake_prefix}/*"}
    assert {r for s in jobs if "s3:PutObject" in s["Action"] for r in s["Resource"]} == {f"{bucket}/{cfg.s3.lake_prefix}/*"}
    assert {r for s in jobs if any(a.startswith("dynamodb:") for a in s["Action"]) for r in s["Resource"]} == {
        f"arn:aws:dynamodb:{cfg.region}:123456789012:table/{cfg.dynamodb.ledger_table}"}


def test_terraform_apply_on_moto_declares_what_the_stack_provisions(terraform_plugins, tmp_path):
    root = make_root(tmp_path / "tf", terraform_plugins)
    tf_pid, tf_cfg = _fresh_moto(tmp_path, "moto-tf")
    py_pid, py_cfg = _fresh_moto(tmp_path, "moto-py")
    target = ["-var", "target=local", "-var", f"aws_endpoint_url={tf_cfg.aws.endpoint_url}",
              "-var", "enable_compute=true"]  # moto stores Glue jobs and Lambdas, it just does not run them
    try:
        root.run("apply", "-auto-approve", *target)
        provision(py_cfg)
        declared, provisioned = _describe(tf_cfg), _describe(py_cfg)
        assert _without_compute(declared, tf_cfg) == provisioned

        # and what both declare is what the config says
        cfg = tf_cfg
        assert declared["buckets"] == [cfg.s3.bucket]
        assert declared["encryption"][0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        assert all(declared["public_access_block"].values())
        assert sorted(declared["tables"]) == sorted([cfg.dynamodb.ledger_table, cfg.workflow.state_table])
        rule_arn = f"arn:aws:events:{cfg.region}:123456789012:rule/{cfg.alerts.job_failure_rule}"
        topic = declared["topics"][cfg.alerts.sns_topic]
        assert topic["policy"]["Statement"][0]["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
        assert topic["subscriptions"] == [("sqs", cfg.alerts.test_queue, "false")]
        assert sorted(declared["queues"]) == sorted([cfg.alerts.test_queue, cfg.alerts.relay_queue,
                                                     cfg.workflow.trigger_queue])
        assert all(q["sse"] == "true" and q["policy"] for q in declared["queues"].values())
        assert declared["rules"][cfg.alerts.job_failure_rule]["targets"] == [("alerts", cfg.alerts.relay_queue)]
        # the workflow follows config/workflow/pipeline.json: bronze starts it, each next job waits for the previous
        assert declared["triggers"] == [
            ("fhirpulse-local-pipeline-gold", "CONDITIONAL", ["fhirpulse-local-gold"],
             [("fhirpulse-local-silver", "SUCCEEDED")]),
            ("fhirpulse-local-pipeline-silver", "CONDITIONAL", ["fhirpulse-local-silver"],
             [("fhirpulse-local-bronze", "SUCCEEDED")]),
            ("fhirpulse-local-pipeline-start", "ON_DEMAND", ["fhirpulse-local-bronze"], []),
        ]
        assert declared["upload_notifications"] == [(cfg.workflow.trigger_queue, ["s3:ObjectCreated:*"],
                                                      [{"Name": "prefix", "Value": f"{cfg.s3.raw_prefix}/"}])]
        assert (cfg.workflow.log_group, cfg.workflow.log_retention_days) in declared["log_groups"]
        _check_compute(tf_cfg, root.dir)

        root.run("destroy", "-auto-approve", *target)
        s3, glue = aws.client(tf_cfg, "s3"), aws.client(tf_cfg, "glue")
        assert s3.list_buckets()["Buckets"] == []
        assert aws.client(tf_cfg, "dynamodb").list_tables()["TableNames"] == []
        assert glue.get_jobs()["Jobs"] == [] and glue.get_triggers()["Triggers"] == []
        assert aws.client(tf_cfg, "lambda").list_functions()["Functions"] == []
    finally:
        stop_process_group(tf_pid)
        stop_process_group(py_pid)
