"""`fhirpulse deps …`: fetch, verify and locate the jars, Trino and JDKs."""

from __future__ import annotations

import json

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
