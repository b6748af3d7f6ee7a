"""`fhirpulse stack up|status|down`."""

from __future__ import annotations

import json
from pathlib import Path
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
    spark_workers: Annotated[int | None, typer.Option(
        min=0, max=64, help="Also start a Spark standalone cluster (master + N workers on 127.0.0.1, each with "
        "spark.worker_cores cores). Jobs run on it when the config's spark.master is 'stack'. Default: the "
        "config's spark.workers.")] = None,
) -> None:
    """Start moto server and Trino on 127.0.0.1, provision buckets/tables/topics from config, wait for health.

    Example: fhirpulse stack up --spark-workers 2, then FHIRPULSE_ENV=cluster fhirpulse run pipeline (the
    shipped config/cluster.json has spark.master "stack").
    """
    cfg = config_or_exit(env)
    with console.status("starting the embedded stack (moto server, Trino 476, Spark cluster if asked)…"):
        try:
            state = stack.up(cfg, with_trino=trino, spark_workers=spark_workers)
        except stack.StackError as err:
            console.print(f"[red]stack up failed:[/red] {err}")
            raise typer.Exit(1) from None
    console.print(f"[green]stack up[/green]  aws={state.aws_endpoint_url}  trino={state.trino_url}")
    if state.spark_master_url:
        console.print(f"  spark={state.spark_master_url}  ui={state.spark_ui_url}  (jobs use it with "
                      "spark.master: \"stack\")")


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
    console.print(f"stack {state}  aws={info['aws_endpoint_url']}  trino={info['trino_url']}"
                  + (f"  spark={info['spark_master_url']}" if info["spark_master_url"] else ""))
    for name, proc in info["processes"].items():
        console.print(f"  {name:14} pid={proc['pid']} port={proc['port']} alive={proc['alive']}")
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


@app.command("trino-etc")
def trino_etc(
    role: Annotated[str, typer.Option(help="coordinator or worker (compose's two Trino nodes).")],
    out: Annotated[Path, typer.Option(help="Folder to write etc/ files and catalog/ into (Trino's --etc-dir).")],
    env: EnvOption = None,
) -> None:
    """Render trino/etc and trino/catalog for a compose Trino node — the files the embedded Trino renders,
    through the same function — into OUT (compose's trino-etc service runs this)."""
    from fhirpulse.stack.trino_files import render_trino_etc, write_trino_etc

    cfg = config_or_exit(env)
    if role not in ("coordinator", "worker"):
        console.print(f"[red]--role must be coordinator or worker, not {role!r}[/red]")
        raise typer.Exit(2)
    files = render_trino_etc(cfg, role, catalog_dir=out / "catalog")
    write_trino_etc(files, out, cfg.trino)
    console.print(f"{len(files)} files in {out}")
