"""Live progress of a workflow run from the jobs' own JSON log events: which job, which step, records so far.

The jobs log one JSON event per step (`bronze.listed`, `silver.table_refreshed`, …; `fhirpulse.core.logs`);
`StepFeed` listens to them while a run works and hands each one, as a line a person reads, to a callback:
the live display on a terminal, a plain line each otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

_LOGGER = "fhirpulse"


class Steps:
    """What a run has done so far, folded from its events; `describe` says the latest step as one line."""

    def __init__(self) -> None:
        self.records = 0  # raw records bronze has committed so far
        self.tables_done: dict[str, int] = {}  # layer -> tables written so far
        self._lock = threading.Lock()

    def describe(self, event: dict[str, Any]) -> str | None:
        name = str(event.get("event", ""))
        layer, _, step = name.partition(".")
        with self._lock:
            return self._describe(layer, step, event)

    def _describe(self, layer: str, step: str, e: dict[str, Any]) -> str | None:
        if step == "started":
            self.tables_done[layer] = 0
            return f"{layer}: started"
        if (layer, step) == ("bronze", "listed"):
            return f"bronze: {e.get('new', 0):,} new of {e.get('objects', 0):,} raw objects"
        if (layer, step) == ("bronze", "claimed"):
            return f"bronze: reading and classifying {e.get('files', 0):,} files"
        if (layer, step) == ("bronze", "classified"):
            return (f"bronze: {e.get('records', 0):,} records in {e.get('files', 0):,} files classified "
                    f"({e.get('seconds', 0)} s); writing {len(e.get('types') or [])} resource tables")
        if step in ("table_committed", "table_refreshed"):
            self.tables_done[layer] = self.tables_done.get(layer, 0) + 1
            rows = f", {e['rows']:,} rows" if isinstance(e.get("rows"), int) else ""
            return f"{layer}: {e.get('table')} written{rows} ({self.tables_done[layer]} tables so far)"
        if (layer, step) == ("bronze", "file"):
            self.records += int(e.get("records") or 0)
            return f"bronze: {self.records:,} records committed so far ({e.get('file')})"
        if (layer, step) == ("gold", "refreshed"):
            return (f"gold: {e.get('stays_written', 0):,} stays and {e.get('kpi_groups', 0):,} KPI groups written "
                    f"(patients: {e.get('patients')})")
        if step == "recovered":
            return f"{layer}: recovered from dead run {e.get('dead_run')}"
        if layer == "audit":
            return f"{e.get('layer')}: {e.get('status')} in {e.get('duration_s')} s"
        return None


class StepFeed(logging.Handler):
    """While installed (a context manager), every job event becomes a line for `show` (from any thread)."""

    def __init__(self, show: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._show = show
        self.steps = Steps()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = json.loads(record.getMessage())
        except ValueError:
            return
        line = self.steps.describe(event) if isinstance(event, dict) else None
        if line:
            self._show(line)

    def __enter__(self) -> StepFeed:
        logging.getLogger(_LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger(_LOGGER).removeHandler(self)
