"""`fhirpulse run pipeline`, `fhirpulse watch`, `fhirpulse status`: the workflow, locally."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from fhirpulse.cli.common import EnvOption, bound_config_or_exit, fail
from fhirpulse.cli.progress import StepFeed
from fhirpulse.core.config import Config, ConfigError
from fhirpulse.workflow.runs import RUNNING, SUCCEEDED, WorkflowRun

console = Console(stderr=True)
EXIT_LOCKED = 3  # another workflow run holds the lock

_STYLE = {SUCCEEDED: "green", RUNNING: "yellow", "FAILED": "red", "STOPPED": "red", "NOT_RUN": "dim"}


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


def make_runner(cfg: Config, display: RunDisplay | None = None):
    from fhirpulse.core.config.pipeline import load_pipeline
    from fhirpulse.workflow.runner import Runner

    try:
        pipeline = load_pipeline()
    except ConfigError as err:
        fail(str(err), code=2)
    return Runner(cfg, pipeline, on_change=display.update if display else None)


def pipeline(
    env: EnvOption = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running workflow run to finish (0: exit "
                                             "at once, with code 3).")] = 0,
    full: Annotated[bool, typer.Option("--full", help="Silver and gold rebuild from everything upstream.")] = False,
) -> None:
    """Run the workflow now: the jobs of config/workflow/pipeline.json in order (bronze -> silver -> gold), each only
    when the jobs before it SUCCEEDED. One workflow run at a time (a DynamoDB lock with a lease)."""
    from fhirpulse.workflow.lock import LockHeld

    cfg = bound_config_or_exit(env)
    with RunDisplay() as display:
        try:
            run = make_runner(cfg, display).run(trigger="manual", wait_seconds=wait, full=full)
        except LockHeld as err:
            fail(f"{err}; try again later or pass --wait SECONDS", code=EXIT_LOCKED)
    console.print(f"\nlog: {run.log_file}")
    if run.state != SUCCEEDED:
        raise typer.Exit(1)


def watch(
    env: EnvOption = None,
    max_runs: Annotated[int | None, typer.Option(help="Exit after this many workflow runs.")] = None,
    idle_exit: Annotated[float | None, typer.Option(help="Exit after this many seconds without uploads.")] = None,
) -> None:
    """Watch for raw uploads (the S3 notifications queue) and start one workflow run per burst of uploads:
    the trigger Lambda's handler, called locally. Ctrl-C stops."""
    from fhirpulse.workflow.lock import LockHeld
    from fhirpulse.workflow.watch import watch as watch_loop
    from lambdas.ingest_trigger.handler import RetryLater

    cfg = bound_config_or_exit(env)
    runner = make_runner(cfg)
    console.print(f"watching s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/ (queue {cfg.workflow.trigger_queue}, "
                  f"a burst ends after {cfg.workflow.debounce_seconds:g}s without uploads); Ctrl-C stops")

    def start(keys: list[str]) -> str:
        console.print(f"{len(keys)} new raw objects: starting the workflow")
        with RunDisplay() as display:
            runner.on_change = display.update
            try:
                return runner.run(trigger=f"s3: {len(keys)} uploads").run_id
            except LockHeld as err:
                raise RetryLater(str(err)) from err

    try:
        started = watch_loop(cfg, start, max_runs=max_runs, idle_seconds=idle_exit)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ConfigError as err:
        fail(str(err), code=2)
    console.print(f"started {len(started)} workflow run(s): {', '.join(started) or '-'}")


class Format(StrEnum):
    table = "table"
    json = "json"


def status(
    env: EnvOption = None,
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 10,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Recent workflow runs, newest first, with each job's state and duration. --format json prints a list
    of {run_id, state, trigger, started_at, ended_at, jobs: [{name, state, seconds}]}."""
    from fhirpulse.workflow.runs import RunStore

    runs = RunStore(bound_config_or_exit(env)).recent(limit)
    if output is Format.json:
        print(json.dumps([r.summary() for r in runs], indent=2))
        return
    if not runs:
        Console().print("no workflow runs yet (`fhirpulse run pipeline` or `fhirpulse watch` starts one)")
    for run in runs:
        Console().print(run_table(run, f"{run.run_id}  {run.state}  trigger: {run.trigger}  "
                                      f"{run.started_at} -> {run.ended_at or '…'}"))
