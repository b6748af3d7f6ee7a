"""Resource policies of the platform, as Terraform's modules declare them (aws_iam_policy_document's JSON).

Each grants one AWS service one action on one resource, and only on behalf of one source (aws:SourceArn):
S3 -> the uploads queue, EventBridge's failure rule -> the alerts topic (or the relay queue), the alerts topic
-> its test queue. The Terraform test reads both sides back from the emulator and compares them.
"""

from __future__ import annotations

import json

SERVICE_PRINCIPALS = {"s3": "s3.amazonaws.com", "events": "events.amazonaws.com", "sns": "sns.amazonaws.com"}


def allow_service(service: str, action: str, resource_arn: str, source_arn: str) -> str:
    """The policy JSON: `service` may do `action` on `resource_arn` when acting for `source_arn`."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": action,
            "Resource": resource_arn,
            "Principal": {"Service": SERVICE_PRINCIPALS[service]},
            "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
        }],
    })


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"
