"""`fhirpulse stack up|status|down`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Start, inspect and stop the embedded stack (moto server + Trino).", no_args_is_help=True)
