"""Create, from config, the AWS resources Terraform declares: one idempotent function per concern.

The embedded stack (moto) and compose (LocalStack) both call `provision`; on real AWS Terraform owns them.
"""

from __future__ import annotations

import contextlib
import json

from botocore.exceptions import ClientError

from fhirpulse.core import aws
from fhirpulse.core.config import REPO_ROOT, Config
from fhirpulse.core.config.pipeline import load_pipeline
from fhirpulse.stack.policies import allow_service, bucket_arn

# Bucket settings of Terraform's lake_storage module (versioning is for real AWS only, on both sides).
ABORT_INCOMPLETE_UPLOAD_DAYS = 7
UPLOADS_VISIBILITY_SECONDS = 900
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
    s3.put_public_access_block(Bucket=cfg.s3.bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=cfg.s3.bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=cfg.s3.bucket, LifecycleConfiguration={"Rules": [{
        "ID": "abort-incomplete-uploads", "Status": "Enabled", "Filter": {},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_UPLOAD_DAYS}}]})


def _ensure_table(cfg: Config, name: str, keys: list[tuple[str, str]]) -> None:
    """A pay-per-request DynamoDB table with string keys [(name, HASH|RANGE)], created if absent."""
    ddb = aws.client(cfg, "dynamodb")
    try:
        ddb.describe_table(TableName=name)
        return
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.get_waiter("table_exists").wait(TableName=name)


def ensure_ledger_table(cfg: Config) -> None:
    """The bronze file ledger: one item per (object key, content version)."""
    _ensure_table(cfg, cfg.dynamodb.ledger_table, [("object_key", "HASH"), ("content_version", "RANGE")])


def ensure_workflow_table(cfg: Config) -> None:
    """The local runner's table: the workflow lock and one item per workflow run, keyed by `pk`."""
    _ensure_table(cfg, cfg.workflow.state_table, [("pk", "HASH")])


def _queue(cfg: Config, name: str, allow: tuple[str, str] | None = None, **attributes: str) -> tuple[str, str]:
    """An SQS queue (encrypted with SQS-managed keys), created if absent; `allow` = (service, source ARN)
    that may send to it. Returns (url, arn)."""
    sqs = aws.client(cfg, "sqs")
    url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true", **attributes})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "Policy": allow_service(allow[0], "sqs:SendMessage", arn, allow[1])})
    return url, arn


def ensure_trigger_queue(cfg: Config) -> dict[str, str]:
    """S3 ObjectCreated notifications of the raw prefix -> the queue `fhirpulse watch` polls (on AWS the
    notification goes to the trigger Lambda's queue, declared by Terraform)."""
    if not cfg.workflow.trigger_queue:
        return {}
    # as long as the trigger Lambda may run (Terraform's ingest_trigger module)
    url, arn = _queue(cfg, cfg.workflow.trigger_queue, ("s3", bucket_arn(cfg.s3.bucket)),
                      VisibilityTimeout=str(UPLOADS_VISIBILITY_SECONDS))
    aws.client(cfg, "s3").put_bucket_notification_configuration(
        Bucket=cfg.s3.bucket,
        NotificationConfiguration={"QueueConfigurations": [{
            "Id": "raw-uploads",
            "QueueArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{cfg.s3.raw_prefix}/"}]}},
        }]},
    )
    return {"trigger_queue_url": url}


def ensure_glue_workflow(cfg: Config) -> None:
    """The Glue workflow and its triggers from config/workflow/pipeline.json, as Terraform's workflow module declares
    them (locally the runner executes the definition; the catalog entry keeps both sides comparable)."""
    glue = aws.client(cfg, "glue")
    pipeline = load_pipeline()
    name = cfg.workflow.name
    try:
        glue.get_workflow(Name=name)
    except glue.exceptions.EntityNotFoundException:
        glue.create_workflow(Name=name, Description=pipeline.description, MaxConcurrentRuns=1)
    triggers = [{"Name": f"{name}-start", "Type": "ON_DEMAND",
                 "Actions": [{"JobName": cfg.workflow.job_name(j.name)} for j in pipeline.jobs if not j.after]}]
    triggers += [{"Name": f"{name}-{j.name}", "Type": "CONDITIONAL", "StartOnCreation": True,
                  "Actions": [{"JobName": cfg.workflow.job_name(j.name)}],
                  "Predicate": {"Logical": "AND", "Conditions": [
                      {"LogicalOperator": "EQUALS", "JobName": cfg.workflow.job_name(a), "State": "SUCCEEDED"}
                      for a in j.after]}}
                 for j in pipeline.jobs if j.after]
    for trigger in triggers:
        try:
            glue.get_trigger(Name=trigger["Name"])
        except glue.exceptions.EntityNotFoundException:
            glue.create_trigger(WorkflowName=name, **trigger)


def ensure_log_group(cfg: Config) -> None:
    logs = aws.client(cfg, "logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=cfg.workflow.log_group)
    logs.put_retention_policy(logGroupName=cfg.workflow.log_group,
                              retentionInDays=cfg.workflow.log_retention_days)


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
    """SNS topic, its SQS test subscriber (when configured) and the job-failure EventBridge rule, which
    targets the topic, or the relay queue a forwarder drains when the emulator cannot deliver to SNS."""
    sns, events = aws.client(cfg, "sns"), aws.client(cfg, "events")
    topic_arn = sns.create_topic(Name=cfg.alerts.sns_topic)["TopicArn"]  # idempotent by name
    rule_arn = events.put_rule(
        Name=cfg.alerts.job_failure_rule,
        EventPattern=json.dumps(json.loads(JOB_FAILURE_PATTERN_FILE.read_text())),
        State="ENABLED",
        Description="Glue job runs that end badly -> alerts topic",
    )["RuleArn"]
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy",
                             AttributeValue=allow_service("events", "sns:Publish", topic_arn, rule_arn))
    out = {"topic_arn": topic_arn, "rule_arn": rule_arn}
    if cfg.alerts.test_queue:
        queue_url, queue_arn = _queue(cfg, cfg.alerts.test_queue, ("sns", topic_arn))
        subscribed = {s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]}
        if queue_arn not in subscribed:
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                          Attributes={"RawMessageDelivery": "false"})
        out |= {"queue_url": queue_url, "queue_arn": queue_arn}
    if cfg.alerts.relay_queue:
        target_arn = _queue(cfg, cfg.alerts.relay_queue, ("events", rule_arn))[1]
        out["relay_queue_arn"] = target_arn
    else:
        target_arn = topic_arn
    events.put_targets(Rule=cfg.alerts.job_failure_rule, Targets=[{"Id": "alerts", "Arn": target_arn}])
    return out


def provision(cfg: Config) -> dict[str, str]:
    ensure_bucket(cfg)
    ensure_ledger_table(cfg)
    ensure_workflow_table(cfg)
    ensure_glue_databases(cfg)
    ensure_glue_workflow(cfg)
    ensure_log_group(cfg)
    return ensure_alerts(cfg) | ensure_trigger_queue(cfg)


def deploy_trigger_lambda(cfg: Config) -> str:
    """The trigger Lambda (lambdas/ingest_trigger) into an emulator that runs Lambdas (LocalStack), named as
    Terraform names it; created, or its code updated. Returns the function's ARN."""
    import tempfile
    from pathlib import Path

    from fhirpulse.deploy.package import build_lambda

    lam, iam = aws.client(cfg, "lambda"), aws.client(cfg, "iam")
    name = f"{cfg.workflow.name}-trigger"
    assume = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]})
    try:
        role_arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=assume)["Role"]["Arn"]
    with tempfile.TemporaryDirectory(prefix="fhirpulse-lambda-") as out:
        code = build_lambda("ingest_trigger", Path(out)).path.read_bytes()
    variables = {"WORKFLOW_NAME": cfg.workflow.name, "RAW_BUCKET": cfg.s3.bucket, "RAW_PREFIX": cfg.s3.raw_prefix}
    if "glue" in cfg.aws.service_endpoints:  # boto3 inside the function reads per-service endpoints
        variables["AWS_ENDPOINT_URL_GLUE"] = cfg.aws.service_endpoints["glue"]
    try:
        arn = lam.update_function_code(FunctionName=name, ZipFile=code)["FunctionArn"]
    except lam.exceptions.ResourceNotFoundException:
        arn = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="handler.handler", Role=role_arn,
                                  Code={"ZipFile": code}, Timeout=30, MemorySize=128,
                                  Environment={"Variables": variables})["FunctionArn"]
    return arn


def main(argv: list[str] | None = None) -> None:
    """`python -m fhirpulse.stack.provision --env compose`: what compose's LocalStack ready hook runs."""
    import argparse

    from fhirpulse.core.config import load_config

    parser = argparse.ArgumentParser(prog="python -m fhirpulse.stack.provision",
                                     description="Create config/<env>.json's AWS resources on its endpoint.")
    parser.add_argument("--env", required=True, help="config/<env>.json (its endpoints must be URLs)")
    parser.add_argument("--deploy-trigger-lambda", action="store_true", help="also deploy the trigger Lambda")
    args = parser.parse_args(argv)
    cfg = load_config(args.env)
    out = provision(cfg)
    if args.deploy_trigger_lambda:
        out["trigger_function_arn"] = deploy_trigger_lambda(cfg)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
