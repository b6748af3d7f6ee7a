"""`fhirpulse views …`: SQL-on-FHIR ViewDefinitions over local NDJSON files, and the official test suite.

    fhirpulse views test-suite DIR --report test_report.json
    fhirpulse views run config/views/patient.json --input synthea-bulk-10-patients/ [--limit N] [--out FILE]
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse.cli.common import EnvOption, config_or_exit

app = typer.Typer(help="Run SQL-on-FHIR v2 ViewDefinitions with Spark.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _spark(env: str | None, app_name: str, log_level: str = "ERROR"):
    """A local session without the lakehouse: these commands read local files only."""
    from fhirpulse import deps
    from spark_jobs.lake.session import plain_session

    spark = plain_session(config_or_exit(env).spark, app_name, deps.local_runtime(lakehouse=False))
    spark.sparkContext.setLogLevel(log_level)
    return spark


@app.command("test-suite")
def test_suite(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                              help="Folder of the suite's test files (tests/*.json).")],
    report: Annotated[Path, typer.Option("--report", help="Where to write test_report.json.")] = Path(
        "test_report.json"),
    fail_under: Annotated[int, typer.Option(help="Exit 1 when fewer tests than this pass.")] = 0,
    fhir_version: Annotated[str, typer.Option(help="FHIR structure definitions: R4B (R4 data) or R5.")] = "R4B",
    env: EnvOption = None,
) -> None:
    """Run every test file of the SQL-on-FHIR v2 suite in one Spark session and write the report."""
    from spark_jobs.sof.suite import run_suite

    # Tests that expect an error make Spark tasks fail on purpose: their stack traces are noise here,
    # and every failure's reason is in the report and the summary.
    spark = _spark(env, "fhirpulse-sof-suite", log_level="OFF")
    with err_console.status("running the SQL-on-FHIR v2 suite…"):
        result = run_suite(spark, directory, fhir_version)
    result.write_report(report)

    table = Table(title=f"SQL-on-FHIR v2 suite ({directory.name})")
    for name in ("file", "passed", "failed"):
        table.add_column(name, justify="left" if name == "file" else "right")
    files: dict[str, list[bool]] = {}
    for case in result.cases:
        files.setdefault(case.file, []).append(case.passed)
    for file, outcomes in files.items():
        failed = outcomes.count(False)
        table.add_row(file, str(outcomes.count(True)), f"[red]{failed}[/red]" if failed else "0")
    console.print(table)
    for case in result.cases:
        if not case.passed:
            console.print(f"[red]FAIL[/red] {case.id}: {case.reason}")
    total = len(result.cases)
    shareable = [c for c in result.cases if "shareable" in c.tags]
    console.print(f"[bold]{result.passed}/{total} passed[/bold] "
                  f"(shareable {sum(c.passed for c in shareable)}/{len(shareable)}) in {result.seconds:.1f}s; "
                  f"report: {report}")
    if result.passed < fail_under:
        raise typer.Exit(1)


@app.command("run")
def run(
    view: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="ViewDefinition JSON file.")],
    input_path: Annotated[Path, typer.Option("--input", exists=True,
                                             help="An NDJSON file or a folder of NDJSON files.")],
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write rows to FILE.csv or FILE.parquet (a Spark "
                                                  "output folder) instead of printing them.")] = None,
    fhir_version: Annotated[str, typer.Option(help="FHIR structure definitions: R4B (R4 data) or R5.")] = "R4B",
    env: EnvOption = None,
) -> None:
    """Run one ViewDefinition over NDJSON FHIR resources and print or write its rows."""
    from spark_jobs.sof import ViewError, compile_view
    from spark_jobs.sof.sources import read_ndjson

    if out is not None and out.suffix not in (".csv", ".parquet"):
        err_console.print(f"[red]--out must end in .csv or .parquet, got {out}[/red]")
        raise typer.Exit(2)
    spark = _spark(env, "fhirpulse-sof-view")
    try:
        compiled = compile_view(view, fhir_version)
    except ViewError as err:
        err_console.print(f"[red]{type(err).__name__}: {err}[/red]")
        raise typer.Exit(2) from None
    frame = compiled.apply(read_ndjson(spark, input_path, compiled.resource))
    if limit is not None:
        frame = frame.limit(limit)
    start = time.perf_counter()
    if out is None:
        _print_rows(frame, compiled, limit)
    else:
        _write(frame, out)
        err_console.print(f"wrote {out} in {time.perf_counter() - start:.1f}s")


def _print_rows(frame, compiled, limit: int | None) -> None:
    shown = limit if limit is not None else 50
    rows = frame.limit(shown).collect()  # only what is displayed reaches the driver
    names = [c.name for c in compiled.columns]
    title = f"{compiled.name or compiled.resource} ({len(rows)} row(s) shown)"
    if len(names) * 14 <= console.width:
        table = Table(title=title)
        for name in names:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*[_cell(v) for v in row])
        console.print(table)
        return
    # Too wide for the terminal: one column/value table per row.
    console.print(f"[bold]{title}[/bold]")
    for i, row in enumerate(rows, start=1):
        table = Table(title=f"row {i}", show_header=False, title_justify="left")
        table.add_column("column", style="cyan")
        table.add_column("value", overflow="fold")
        for name, value in zip(names, row, strict=True):
            table.add_row(name, _cell(value))
        console.print(table)


def _cell(value: object) -> str:
    if value is None:
        return "[dim]null[/dim]"
    return json.dumps(value) if isinstance(value, list) else str(value)


def _write(frame, out: Path) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if out.suffix == ".csv":
        # CSV has no arrays: collection columns are written as JSON text.
        columns = [F.to_json(F.col(f.name)).alias(f.name) if isinstance(f.dataType, T.ArrayType)
                   else F.col(f.name) for f in frame.schema.fields]
        frame.select(*columns).write.mode("overwrite").option("header", True).csv(str(out))
    else:
        frame.write.mode("overwrite").parquet(str(out))
