"""Where each incremental job keeps what it has consumed: items in the DynamoDB ledger table.

A checkpoint maps source tables to the last source commit instant a job has fully written downstream, e.g.
silver's `encounter` -> {"bronze.encounter": "20261204093011123"}. It is written after the downstream commit,
so a crash in between makes the next run read the same changes again, which the upserts absorb.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fhirpulse.core import aws
from fhirpulse.core.config import Config

CHECKPOINT_VERSION = "checkpoint"  # the ledger's range key for checkpoint items (files use ETag:size)


def _key(layer: str, name: str) -> dict:
    return {"object_key": {"S": f"checkpoint#{layer}#{name}"}, "content_version": {"S": CHECKPOINT_VERSION}}


def read_checkpoint(cfg: Config, layer: str, name: str) -> dict[str, str]:
    """The checkpoint of `layer`'s `name` ({} when it has never run)."""
    item = aws.client(cfg, "dynamodb").get_item(TableName=cfg.dynamodb.ledger_table, Key=_key(layer, name),
                                                ConsistentRead=True).get("Item")
    return json.loads(item["checkpoint"]["S"]) if item else {}


def write_checkpoint(cfg: Config, layer: str, name: str, checkpoint: dict[str, str], run_id: str) -> None:
    aws.client(cfg, "dynamodb").put_item(TableName=cfg.dynamodb.ledger_table, Item={
        **_key(layer, name), "checkpoint": {"S": json.dumps(checkpoint, sort_keys=True)},
        "run_id": {"S": run_id}, "written_at": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
    })
