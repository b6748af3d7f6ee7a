"""`fhirpulse` command line: one typer app, one module per command group in this package."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from fhirpulse.cli import demo, deps, generate, kpis, package, query, report, run, stack, status, views, watch
from fhirpulse.core.logs import console_json
from fhirpulse.stack.state import state_dir

app = typer.Typer(
    name="fhirpulse",
    help="FHIRPulse: a local-first FHIR lakehouse (Spark + Hudi + Trino on emulated AWS).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def main(
    log_format: Annotated[LogFormat, typer.Option(
        "--log-format", envvar="FHIRPULSE_LOG_FORMAT",
        help="text: readable progress only; json: also every JSON log line on stderr. Runs keep their JSON "
        "lines in a file either way (.state/logs/).")] = LogFormat.text,
) -> None:
    console_json(log_format is LogFormat.json)
    # Spark's own warnings go to this file (spark_jobs/lake/log4j2.properties), not to the terminal.
    os.environ.setdefault("FHIRPULSE_SPARK_LOG", str(state_dir() / "logs" / "spark.log"))


app.add_typer(stack.app, name="stack")
app.add_typer(deps.app, name="deps")
app.add_typer(run.app, name="run")
app.add_typer(views.app, name="views")
app.command("generate")(generate.generate)
app.command("kpis")(kpis.kpis)
app.command("query")(query.query)
app.command("report")(report.report)
app.command("demo")(demo.demo)
app.command("package")(package.package)
app.command("watch")(watch.watch)
app.command("status")(status.status)
