"""`fhirpulse run …`: run pipeline jobs on the configured stack."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run pipeline jobs (bronze, silver, gold) on the configured stack.", no_args_is_help=True)
