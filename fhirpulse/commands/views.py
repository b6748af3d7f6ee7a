"""`fhirpulse views …` — owned by the SQL-on-FHIR work (issue 5)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run SQL-on-FHIR v2 ViewDefinitions with Spark.", no_args_is_help=True)
