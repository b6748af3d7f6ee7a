"""`fhirpulse status`: the recent workflow runs."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse.cli.common import EnvOption, bound_config_or_exit
from fhirpulse.cli.progress import run_table


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
