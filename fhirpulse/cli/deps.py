"""`fhirpulse deps …`: fetch, verify and locate the jars, Trino and JDKs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fhirpulse import deps

app = typer.Typer(help="Fetch and verify runtime dependencies (jars, Trino 476, JDKs) into the cache.",
                  no_args_is_help=True)


@app.command()
def fetch() -> None:
    """Fetch everything (idempotent; no download when the cache is complete) and print where it is."""
    try:
        print(json.dumps(deps.fetch_all(), indent=2))
    except deps.DependencyError as err:
        typer.secho(f"bootstrap failed: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command()
def tools(names: Annotated[list[str] | None, typer.Argument(
        help="checkov, tflocal, check-jsonschema, detect-secrets, compose (default: all).")] = None) -> None:
    """Install the check tools the tests run (each pinned, in its own venv in the cache) and print where."""
    from fhirpulse.deps.tools import install_tools

    try:
        print(json.dumps(install_tools(names), indent=2))
    except deps.DependencyError as err:
        typer.secho(f"tools: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command("export-jars")
def export_jars(target: Annotated[Path, typer.Argument(help="Folder to copy the jars into.")]) -> None:
    """Copy the verified Spark jars into a folder (compose mounts .state/compose/jars into its containers)."""
    try:
        jars = deps.export_jars(target)
    except deps.DependencyError as err:
        typer.secho(f"export-jars: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    print(f"{len(jars)} jars in {target}")
