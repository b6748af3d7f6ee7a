"""`fhirpulse run …`: run pipeline jobs on the configured stack (the same library code Glue runs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse.cli.common import EnvOption, bound_config_or_exit

app = typer.Typer(help="Run pipeline jobs (bronze, silver, gold) on the configured stack.", no_args_is_help=True)
console = Console(stderr=True)


FullOption = Annotated[bool, typer.Option("--full", help="Rebuild from everything upstream, not only what is new.")]


def _run_job(layer: str, env: str | None, job: Callable, **kwargs) -> None:
    """Run one layer's job in-process on the configured stack and print its audit record."""
    from fhirpulse import deps
    from spark_jobs.lake.lifecycle import JobError
    from spark_jobs.lake.session import build_session

    cfg = bound_config_or_exit(env)
    try:
        with console.status(f"{layer}: running on Spark {cfg.spark.master}…"):
            audit = job(cfg, lambda: build_session(cfg, f"fhirpulse-{layer}", deps.local_runtime()), **kwargs)
    except JobError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    print(json.dumps(asdict(audit) | {"duration_s": audit.duration_s}, default=str, indent=2))


@app.command()
def bronze(env: EnvOption = None) -> None:
    """Ingest every new raw object (NDJSON, gzip, Bundles, JSON arrays) into bronze Hudi tables.

    Files already COMMITTED in the DynamoDB ledger are skipped; bad records go to the quarantine table.
    """
    from spark_jobs.bronze.job import run_bronze

    _run_job("bronze", env, run_bronze)


@app.command()
def silver(env: EnvOption = None, full: FullOption = False) -> None:
    """Refresh the silver tables (one per ViewDefinition in config/views) from what bronze committed since
    their checkpoints; data-quality flags are counted in the audit record."""
    from spark_jobs.silver.job import run_silver

    _run_job("silver", env, run_silver, full=full)


@app.command()
def gold(env: EnvOption = None, full: FullOption = False) -> None:
    """Recompute the stays (KPI flags) of the patients silver changed, and the KPI table (docs/kpis.md)."""
    from spark_jobs.gold.job import run_gold

    _run_job("gold", env, run_gold, full=full)


@app.command()
def land(
    source: Annotated[Path, typer.Argument(exists=True, help="A file or folder of FHIR files to upload.")],
    subprefix: Annotated[str, typer.Option(help="Folder under the raw prefix.")] = "",
    env: EnvOption = None,
) -> None:
    """Upload local FHIR files (e.g. a Synthea export) under the configured raw prefix."""
    from fhirpulse.stack.landing import upload_tree

    keys = upload_tree(bound_config_or_exit(env), source, subprefix)
    console.print(f"uploaded {len(keys)} objects")
