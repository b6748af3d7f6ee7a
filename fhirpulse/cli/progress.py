"""Live progress of a workflow run from the jobs' own JSON log events: which job, which step, records so far.

The jobs log one JSON event per step (`bronze.listed`, `silver.table_refreshed`, …; `fhirpulse.core.logs`);
`StepFeed` listens to them while a run works and hands each one, as a line a person reads, to a callback:
the live display on a terminal (`RunDisplay`, the run's job table with the latest step under it), a plain
line each otherwise. `run_table` draws a run's jobs for `run pipeline`, `watch`, `status` and the demo.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from fhirpulse.workflow.runs import RUNNING, SUCCEEDED, WorkflowRun

_LOGGER = "fhirpulse"
console = Console(stderr=True)
_STYLE = {SUCCEEDED: "green", RUNNING: "yellow", "FAILED": "red", "STOPPED": "red", "NOT_RUN": "dim"}


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


def run_table(run: WorkflowRun, title: str | None = None) -> Table:
    """The run's jobs; job run ids go in the caption, one per line, so a narrow terminal or a pipe never
    wraps them mid-id."""
    table = Table(title=title or f"workflow run {run.run_id} ({run.trigger}): {run.state}", title_justify="left",
                  caption_justify="left")
    table.add_column("job", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("seconds", justify="right", no_wrap=True)
    table.add_column("message", overflow="fold")
    for job in run.jobs:
        style = _STYLE.get(job.state, "")
        state = Spinner("dots", text=job.state) if job.state == RUNNING else f"[{style}]{job.state}[/{style}]"
        table.add_row(job.name, state, "" if job.seconds is None else f"{job.seconds:.0f}", (job.message or "")[:160])
    table.caption = "\n".join(f"{job.name}: {job.job_run_id}" for job in run.jobs if job.job_run_id) or None
    return table


class RunDisplay:
    """The current run as it works: on a terminal a live table of its jobs with the latest step under it
    (which job, which step, records so far); in a pipe one plain line per step, then the final table."""

    def __init__(self, out: Console = console):
        self._out = out
        self._live = Live(console=out, refresh_per_second=8, transient=False)
        self._feed = StepFeed(self._step)
        self._run: WorkflowRun | None = None
        self._last_step = ""

    def __enter__(self) -> RunDisplay:
        self._live.__enter__()
        self._feed.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._feed.__exit__(*exc)
        if self._run is not None:  # the final table without the step line
            self._live.update(Group(run_table(self._run)), refresh=True)
        self._live.__exit__(*exc)
        if not self._out.is_terminal:
            self._out.print()  # a pipe gets the final table without its line end

    def update(self, run: WorkflowRun) -> None:
        self._run = run
        self._render()

    def _step(self, line: str) -> None:
        self._last_step = line
        if self._out.is_terminal:
            self._render()
        else:
            self._out.print(line, soft_wrap=True, highlight=False)

    def _render(self) -> None:
        if self._run is None:
            return
        parts = [run_table(self._run)]
        if self._out.is_terminal and self._last_step:
            parts.append(Text(f"  {self._last_step}", style="dim"))
        self._live.update(Group(*parts), refresh=True)
