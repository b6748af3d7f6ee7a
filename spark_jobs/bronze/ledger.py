"""The bronze file ledger in DynamoDB: exactly-once ingestion per (object key, content version).

States: PENDING (claimed by a run) -> COMMITTED (its records are in Hudi commits named here) or FAILED (with
the error). Every transition is a conditional write, so a run never overwrites another run's outcome. A run
that dies leaves PENDING items; the next run claims them again and re-ingests with upserts, which is
idempotent by record key, so recovery neither loses nor duplicates a record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from spark_jobs.bronze.sources import RawObject
from spark_jobs.lake.checkpoints import CHECKPOINT_VERSION

PENDING, COMMITTED, FAILED = "PENDING", "COMMITTED", "FAILED"


@dataclass(frozen=True)
class FileOutcome:
    records: int
    bronze_rows: int
    quarantined: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    def __init__(self, cfg: Config):
        self.table = cfg.dynamodb.ledger_table
        self.ddb = aws.client(cfg, "dynamodb")

    def statuses(self, objects: Iterable[RawObject]) -> dict[tuple[str, str], str]:
        """Current status of each (key, version); absent ones are not in the result."""
        keys = [{"object_key": {"S": o.key}, "content_version": {"S": o.content_version}} for o in objects]
        found: dict[tuple[str, str], str] = {}
        for start in range(0, len(keys), 100):  # BatchGetItem takes 100 keys
            request = {self.table: {"Keys": keys[start:start + 100],
                                    "ProjectionExpression": "object_key, content_version, #s",
                                    "ExpressionAttributeNames": {"#s": "status"}}}
            while request:
                resp = self.ddb.batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    found[(item["object_key"]["S"], item["content_version"]["S"])] = item["status"]["S"]
                request = resp.get("UnprocessedKeys") or None
        return found

    def claim(self, obj: RawObject, run_id: str) -> bool:
        """PENDING for this run, unless the file is already COMMITTED (then False: skip it)."""
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={"object_key": {"S": obj.key}, "content_version": {"S": obj.content_version},
                      "status": {"S": PENDING}, "run_id": {"S": run_id}, "size": {"N": str(obj.size)},
                      "etag": {"S": obj.etag}, "claimed_at": {"S": _now()}},
                ConditionExpression="attribute_not_exists(object_key) OR #s <> :committed",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":committed": {"S": COMMITTED}},
            )
            return True
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def commit(self, obj: RawObject, run_id: str, outcome: FileOutcome, commits: dict[str, str]) -> None:
        """COMMITTED, tied to the Hudi commit instants (per table) that hold the file's records."""
        self.ddb.update_item(
            TableName=self.table,
            Key={"object_key": {"S": obj.key}, "content_version": {"S": obj.content_version}},
            UpdateExpression="SET #s = :committed, records = :r, bronze_rows = :b, quarantined = :q, "
                             "hudi_commits = :c, committed_at = :t REMOVE #e",
            ConditionExpression="#s = :pending AND run_id = :run",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={
                ":committed": {"S": COMMITTED}, ":pending": {"S": PENDING}, ":run": {"S": run_id},
                ":r": {"N": str(outcome.records)}, ":b": {"N": str(outcome.bronze_rows)},
                ":q": {"N": str(outcome.quarantined)},
                ":c": {"M": {table: {"S": instant} for table, instant in sorted(commits.items())}},
                ":t": {"S": _now()},
            },
        )

    def fail(self, obj: RawObject, run_id: str, error: str) -> None:
        self.ddb.update_item(
            TableName=self.table,
            Key={"object_key": {"S": obj.key}, "content_version": {"S": obj.content_version}},
            UpdateExpression="SET #s = :failed, #e = :e, failed_at = :t",
            ConditionExpression="#s = :pending AND run_id = :run",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={":failed": {"S": FAILED}, ":pending": {"S": PENDING}, ":run": {"S": run_id},
                                       ":e": {"S": error[:4000]}, ":t": {"S": _now()}},
        )

    def items(self) -> list[dict]:
        """Every file's ledger item (paginated scan), plain values; for tests, audits and the CLI."""
        out = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table):
            for item in page["Items"]:
                if item["content_version"]["S"] != CHECKPOINT_VERSION:  # other jobs' checkpoints share the table
                    out.append({k: _plain(v) for k, v in item.items()})
        return sorted(out, key=lambda i: (i["object_key"], i["content_version"]))


def _plain(value: dict):
    (kind, raw), = value.items()
    if kind == "N":
        return int(raw)
    if kind == "M":
        return {k: _plain(v) for k, v in raw.items()}
    return raw
