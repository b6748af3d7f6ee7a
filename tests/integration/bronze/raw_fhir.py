"""An independent, plain-Python reading of raw FHIR files: what bronze should hold, per file."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

UNPACKED = {"transaction", "batch", "collection", "searchset", "history", "transaction-response",
            "batch-response"}


@dataclass
class Expected:
    records: int = 0
    accepted: dict[str, set[str]] = field(default_factory=dict)  # resourceType -> ids
    quarantined: int = 0

    @property
    def accepted_count(self) -> int:
        return self.records - self.quarantined


def _records(path: Path) -> list[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    first_line = stripped.split("\n", 1)[0]
    try:
        json.loads(first_line)
        is_ndjson = not first_line.startswith("[")
    except ValueError:
        is_ndjson = not stripped.startswith(("{", "["))
    if is_ndjson:
        return [line for line in text.splitlines() if line.strip()]
    if stripped.startswith("["):
        try:
            return [json.dumps(e) for e in json.loads(text)]
        except ValueError:
            return [text]
    return [text]


def expected_for(path: Path, r4_types: frozenset[str]) -> Expected:
    out = Expected()
    for text in _records(path):
        try:
            obj = json.loads(text)
        except ValueError:
            out.records += 1
            out.quarantined += 1
            continue
        items = [obj]
        if isinstance(obj, dict) and obj.get("resourceType") == "Bundle" and obj.get("type") in UNPACKED \
                and isinstance(obj.get("entry"), list) and obj["entry"]:
            items = [e.get("resource") if isinstance(e, dict) else None for e in obj["entry"]]
        for item in items:
            out.records += 1
            ok = (isinstance(item, dict) and item.get("resourceType") in r4_types and isinstance(item.get("id"), str)
                  and item["id"] != "" and "\ufffd" not in text)
            if ok:
                out.accepted.setdefault(item["resourceType"], set()).add(item["id"])
            else:
                out.quarantined += 1
    return out
