"""`fhirpulse demo`: the whole product on the embedded stack, as a new user would drive it.

Stack up -> generate two batches -> upload each; the upload trigger (the Lambda's handler, fed by the S3
notification queue) starts the workflow by itself -> the KPIs through Trino beside the generator's requested
rates -> what to try next -> stack down.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse import stack
from fhirpulse.cli.common import EnvOption, config_or_exit, fail, make_runner
from fhirpulse.cli.progress import RunDisplay
from fhirpulse.core.config import Config
from fhirpulse.reporting.engine import engine_for
from fhirpulse.reporting.kpis import RATES, query_kpis
from fhirpulse.reporting.rates import requested_rates
from fhirpulse.reporting.report import write_report
from fhirpulse.stack.landing import upload_tree
from fhirpulse.workflow.runs import SUCCEEDED

console = Console()
REPORT = Path("reports") / "kpis.html"


def _generate(cfg: Config, out: Path, batch: int, patients: int, first_batch: int, seed: int) -> int:
    with console.status(f"generating batch {batch}: {patients} new patients"
                        + (" + updates of earlier ones" if batch > 1 else "") + "…"):
        subprocess.run([sys.executable, "-m", "fhirpulse.cli", "generate", "-n", str(patients), "--seed", str(seed),
                        "--batch", str(batch), "--earlier-patients", str(first_batch), "--out", str(out),
                        "--no-progress", "--env", cfg.env, "--summary-file", str(out.parent / f"summary-{batch}.json")],
                       check=True, capture_output=True)
    for summary in out.glob("generation-summary*"):
        summary.unlink()  # the generator's report, not FHIR: it stays out of the raw prefix
    files = sorted(out.rglob("*.ndjson"))
    resources = sum(1 for f in files for line in f.open("rb") if line.strip())
    console.print(f"batch {batch}: {resources:,} FHIR R4 resources in {len(files)} NDJSON files")
    return resources


def _upload_and_wait_for_the_trigger(cfg: Config, folder: Path, batch: int) -> None:
    from fhirpulse.workflow.watch import watch

    keys = upload_tree(cfg, folder, f"demo-batch-{batch}")
    console.print(f"uploaded {len(keys)} objects to s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/demo-batch-{batch}/; "
                  "waiting for the upload trigger…")
    runs = []

    def start(uploads: list[str]) -> str:
        console.print(f"trigger: {len(uploads)} new raw objects -> one workflow run")
        with RunDisplay(console) as display:
            run = make_runner(cfg, display).run(trigger=f"s3: {len(uploads)} uploads")
        runs.append(run)
        return run.run_id

    watch(cfg, start, max_runs=1, idle_seconds=120)
    if not runs:
        fail("the upload trigger did not start a workflow run within 2 minutes")
    if runs[0].state != SUCCEEDED:
        fail(f"workflow run {runs[0].run_id} ended {runs[0].state}; its log: {runs[0].log_file}")


def _kpi_table(cfg: Config) -> None:
    kpis = query_kpis(cfg, engine_for(cfg))[0]
    checks = {c["kpi"]: c for c in requested_rates(kpis, cfg.generator)}
    table = Table(title=f"KPIs from {cfg.glue.gold_database}.{cfg.gold.kpi_table} through Trino "
                        "(definitions: docs/kpis.md)", title_justify="left")
    for column in ("KPI", "gold", "numerator / denominator", "generator asked for", "within tolerance"):
        table.add_column(column, justify="left" if column == "KPI" else "right", no_wrap=column == "KPI")
    for kpi, check in checks.items():
        num, den = RATES[kpi]
        ratio = f"{kpis[num]:,} / {kpis[den]:,}" if num in kpis else f"{kpis[den]:,} {den}"
        observed = "–" if check["observed"] is None else f"{check['observed']:.4f}"
        within = "[green]yes[/green]" if check["within"] else "[red]no[/red]"
        table.add_row(kpi, observed, ratio, f"{check['expected']:.4f} ± {check['tolerance']:.4f}", within)
    console.print(table)


def demo(
    env: EnvOption = None,
    patients: Annotated[int, typer.Option("--patients", "-n", help="Patients in the first batch.")] = 2000,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same data).")] = 7,
    keep: Annotated[bool, typer.Option(help="Leave the stack running afterwards (to try the next steps).")] = False,
) -> None:
    """The product end to end on the embedded stack: generate two batches, upload them, let the upload
    trigger run the workflow (bronze -> silver -> gold) each time, and print the KPIs through Trino."""
    cfg = config_or_exit(env)
    started = time.monotonic()
    with console.status("starting the embedded stack (moto server as AWS, Trino 476)…"):
        state = stack.up(cfg)
    bound = cfg.with_endpoint(state.aws_endpoint_url)
    console.print(f"stack: AWS API (moto) {state.aws_endpoint_url}, Trino {state.trino_url}")
    try:
        with tempfile.TemporaryDirectory(prefix="fhirpulse-demo-") as tmp:
            second = max(1, patients // 4)
            for batch, count in ((1, patients), (2, second)):
                console.rule(f"batch {batch}")
                folder = Path(tmp) / f"batch-{batch}"
                _generate(cfg, folder, batch, count, patients, seed)
                _upload_and_wait_for_the_trigger(bound, folder, batch)
        console.rule("KPIs")
        _kpi_table(cfg)
        with console.status("rendering the HTML report…"):
            report = write_report(cfg, engine_for(cfg), REPORT)
        console.print(f"report: {report.resolve()}")
        console.rule("what next")
        hint = "" if keep else " (run `fhirpulse demo --keep` or `fhirpulse stack up` to keep the stack)"
        console.print(f"Trino (SQL on the lake): {state.trino_url}{hint}\n"
                      "fhirpulse kpis --by hospital        KPIs by hospital, month or age band (json, csv)\n"
                      "fhirpulse query --list              the analyst SQL in trino/queries (Trino or Athena)\n"
                      "fhirpulse report --out r.html       the KPI report as one HTML file\n"
                      "fhirpulse status                    the workflow runs and their jobs\n"
                      "fhirpulse watch                     upload more (fhirpulse land DIR) and let it run\n"
                      "fhirpulse run pipeline              run the workflow now\n"
                      f"logs: {state.workdir}/logs/ (one JSON-lines file per run; Spark's warnings in spark.log)")
        console.print(f"done in {time.monotonic() - started:.0f}s")
    finally:
        if not keep:
            stack.down()
            console.print("stack stopped")
