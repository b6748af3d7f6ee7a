"""Structured logs: one JSON object per line, each carrying the run id.

By default they go to stderr (on Glue, stderr is the job's CloudWatch log stream). The CLI turns that off
for people (`--log-format text`, its default) and keeps every line in a file per run (`log_to_file`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_logger = logging.getLogger("fhirpulse")
_console = logging.StreamHandler(sys.stderr)
if not _logger.handlers:
    _console.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_console)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
    _logger.log(level, json.dumps(record, default=str, sort_keys=False))


def console_json(enabled: bool) -> None:
    """Show the JSON lines on stderr (True), or keep them off the terminal (False; files still get them)."""
    _console.setLevel(logging.INFO if enabled else logging.CRITICAL + 1)


@contextmanager
def log_to_file(path: Path) -> Iterator[Path]:
    """Append every JSON line logged inside the block to `path` (one file per run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(handler)
    try:
        yield path
    finally:
        _logger.removeHandler(handler)
        handler.close()
