"""`fhirpulse run …`: run pipeline jobs on the configured stack (the same library code Glue runs)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse.cli.common import EnvOption, bound_config_or_exit

app = typer.Typer(help="Run pipeline jobs (bronze, …) on the configured stack.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def bronze(env: EnvOption = None) -> None:
    """Ingest every new raw object (NDJSON, gzip, Bundles, JSON arrays) into bronze Hudi tables.

    Files already COMMITTED in the DynamoDB ledger are skipped; bad records go to the quarantine table.
    """
    from fhirpulse import deps
    from spark_jobs.bronze.job import run_bronze
    from spark_jobs.lake.lifecycle import JobError
    from spark_jobs.lake.session import build_session

    cfg = bound_config_or_exit(env)
    try:
        with console.status("bronze: reading raw objects and writing Hudi tables…"):
            audit = run_bronze(cfg, lambda: build_session(cfg, "fhirpulse-bronze", deps.local_runtime()))
    except JobError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from None
    print(json.dumps(asdict(audit) | {"duration_s": audit.duration_s}, default=str, indent=2))


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
