"""`python -m fhirpulse.cli`: the same app as the `fhirpulse` command."""

from fhirpulse.cli import app

app()
