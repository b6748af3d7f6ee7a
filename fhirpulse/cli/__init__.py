"""`fhirpulse` command line: one typer app, one module per command group in this package."""

from __future__ import annotations

import typer

from fhirpulse.cli import demo, deps, generate, kpis, run, stack, views

app = typer.Typer(
    name="fhirpulse",
    help="FHIRPulse: a local-first FHIR lakehouse (Spark + Hudi + Trino on emulated AWS).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(deps.app, name="deps")
app.add_typer(run.app, name="run")
app.add_typer(views.app, name="views")
app.command("generate")(generate.generate)
app.command("kpis")(kpis.kpis)
app.command("demo")(demo.demo)
