"""`fhirpulse generate` — owned by the generator work (issue 3)."""

from __future__ import annotations

import typer


def generate() -> None:
    """Generate synthetic FHIR R4 data (not built yet)."""
    typer.secho("the generator is not built yet", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)
