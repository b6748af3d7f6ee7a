"""`fhirpulse stack up|status|down`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse import stack
from fhirpulse.cli.common import EnvOption, config_or_exit

app = typer.Typer(help="Start, inspect and stop the embedded stack (moto server + Trino 476).",
                  no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def up(
    env: EnvOption = None,
    trino: Annotated[bool, typer.Option(help="Also start Trino (skip for AWS-only work).")] = True,
) -> None:
    """Start moto server and Trino on 127.0.0.1, provision buckets/tables/topics from config, wait for health."""
    cfg = config_or_exit(env)
    with console.status("starting the embedded stack (moto server, Trino 476)…"):
        try:
            state = stack.up(cfg, with_trino=trino)
        except stack.StackError as err:
            console.print(f"[red]stack up failed:[/red] {err}")
            raise typer.Exit(1) from None
    console.print(f"[green]stack up[/green]  aws={state.aws_endpoint_url}  trino={state.trino_url}")


@app.command()
def status(
    env: EnvOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable map of the stack.")] = False,
) -> None:
    """Where everything is: endpoints, processes and the resolved config (bucket, prefixes, databases)."""
    info = stack.status(config_or_exit(env))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    state = "[green]running[/green]" if info["running"] else "[yellow]not running[/yellow]"
    console.print(f"stack {state}  aws={info['aws_endpoint_url']}  trino={info['trino_url']}")
    for name, proc in info["processes"].items():
        console.print(f"  {name:6} pid={proc['pid']} port={proc['port']} alive={proc['alive']}")
    if not info["running"]:
        raise typer.Exit(1)


@app.command()
def down() -> None:
    """Stop every process the stack started and forget its state (safe when nothing runs)."""
    try:
        stopped = stack.down()
    except stack.StackError as err:
        console.print(f"[red]stack down incomplete:[/red] {err}")
        raise typer.Exit(1) from None
    console.print(f"stack down ({', '.join(stopped) or 'nothing was running'})")
