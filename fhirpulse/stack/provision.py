"""Create, from config, the AWS resources Terraform declares: one idempotent function per concern.

The embedded stack (moto) and compose (LocalStack) both call `provision`; on real AWS Terraform owns them.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from fhirpulse.core import aws
from fhirpulse.core.config import REPO_ROOT, Config

# The event Glue emits when a job run ends badly; Terraform's alerts module reads the same file.
JOB_FAILURE_PATTERN_FILE = REPO_ROOT / "config" / "events" / "glue_job_failure.json"


def ensure_bucket(cfg: Config) -> None:
    s3 = aws.client(cfg, "s3")
    try:
        s3.head_bucket(Bucket=cfg.s3.bucket)
    except ClientError:
        kwargs = {} if cfg.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": cfg.region}}
        s3.create_bucket(Bucket=cfg.s3.bucket, **kwargs)


def ensure_ledger_table(cfg: Config) -> None:
    """The bronze file ledger: one item per (object key, content version)."""
    ddb = aws.client(cfg, "dynamodb")
    try:
        ddb.describe_table(TableName=cfg.dynamodb.ledger_table)
        return
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(
        TableName=cfg.dynamodb.ledger_table,
        AttributeDefinitions=[
            {"AttributeName": "object_key", "AttributeType": "S"},
            {"AttributeName": "content_version", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "object_key", "KeyType": "HASH"},
            {"AttributeName": "content_version", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=cfg.dynamodb.ledger_table)


def ensure_glue_databases(cfg: Config) -> None:
    glue = aws.client(cfg, "glue")
    for layer in ("bronze", "silver", "gold"):
        name = cfg.glue.database(layer)
        try:
            glue.get_database(Name=name)
        except glue.exceptions.EntityNotFoundException:
            glue.create_database(DatabaseInput={
                "Name": name,
                "Description": f"FHIRPulse {layer} layer ({cfg.env})",
                "LocationUri": cfg.s3.table_uri(layer, "").rstrip("/"),
            })


def ensure_alerts(cfg: Config) -> dict[str, str]:
    """SNS topic, its SQS test subscriber (when configured) and the job-failure EventBridge rule."""
    sns, events = aws.client(cfg, "sns"), aws.client(cfg, "events")
    topic_arn = sns.create_topic(Name=cfg.alerts.sns_topic)["TopicArn"]  # idempotent by name
    out = {"topic_arn": topic_arn}
    if cfg.alerts.test_queue:
        sqs = aws.client(cfg, "sqs")
        queue_url = sqs.create_queue(QueueName=cfg.alerts.test_queue)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        subscribed = {s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]}
        if queue_arn not in subscribed:
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                          Attributes={"RawMessageDelivery": "false"})
        out |= {"queue_url": queue_url, "queue_arn": queue_arn}
    rule_arn = events.put_rule(
        Name=cfg.alerts.job_failure_rule,
        EventPattern=json.dumps(json.loads(JOB_FAILURE_PATTERN_FILE.read_text())),
        State="ENABLED",
        Description="Glue job runs that end badly -> alerts topic",
    )["RuleArn"]
    events.put_targets(Rule=cfg.alerts.job_failure_rule, Targets=[{"Id": "alerts-topic", "Arn": topic_arn}])
    return out | {"rule_arn": rule_arn}


def provision(cfg: Config) -> dict[str, str]:
    ensure_bucket(cfg)
    ensure_ledger_table(cfg)
    ensure_glue_databases(cfg)
    return ensure_alerts(cfg)
