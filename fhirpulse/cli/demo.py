"""`fhirpulse demo`: start the embedded stack, run the pipeline end to end, print what it did, stop."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse import deps, stack
from fhirpulse.cli.common import EnvOption, config_or_exit
from fhirpulse.core.config import Config
from fhirpulse.reporting.kpis import query_kpis
from fhirpulse.stack import sql as sql_client
from fhirpulse.stack.state import StackState

console = Console()


def trino_query(state: StackState, cfg: Config, sql: str, schema: str) -> tuple[list[str], list[list]]:
    return sql_client.trino_query(state.trino_url, cfg.trino.catalog, sql, schema, user="fhirpulse-demo")


def _print_table(title: str, columns: list[str], rows: list[list]) -> None:
    out = Table(title=title)
    for col in columns:
        out.add_column(col)
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    console.print(out)


def _bronze_overview(state: StackState, cfg: Config) -> None:
    db = cfg.glue.bronze_database
    _, tables = trino_query(state, cfg, "SHOW TABLES", db)
    names = [t for (t,) in tables if t not in (cfg.bronze.audit_table, cfg.bronze.quarantine_table)]
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS bronze_table, count(*) AS row_count, count(DISTINCT patient_id) AS patients FROM {t}"
        for t in names)
    _print_table(f"Trino: bronze tables in {cfg.trino.catalog}.{db}",
                 *trino_query(state, cfg, f"{union} ORDER BY 1", db))
    _print_table("Trino: bronze audit",
                 *trino_query(state, cfg, "SELECT run_id, status, files, records_in, rows_out, quarantined, "
                                          f"round(duration_s, 1) AS seconds FROM {cfg.bronze.audit_table} "
                                          "ORDER BY started_at", db))


def _run_layers(cfg: Config) -> None:
    """Bronze, silver and gold in one Spark session, each printing its audit line."""
    from spark_jobs.bronze.job import run_bronze
    from spark_jobs.gold.job import run_gold
    from spark_jobs.lake.session import build_session
    from spark_jobs.silver.job import run_silver

    spark = build_session(cfg, "fhirpulse-demo", deps.local_runtime())
    steps = [("2. bronze: raw FHIR -> Hudi tables (ledger, quarantine, audit)", run_bronze),
             ("3. silver: ViewDefinitions -> flat tables, incremental, data-quality flags", run_silver),
             ("4. gold: stays with KPI flags, KPI table by month x hospital x age band", run_gold)]
    for title, job in steps:
        console.rule(title)
        with console.status(f"running on Spark {cfg.spark.master}…"):
            audit = job(cfg, lambda: spark)
        console.print(f"{audit.layer} run {audit.run_id}: {audit.status}, {audit.records_in} records in, "
                      f"{audit.rows_out} rows out, {audit.quarantined} quarantined, in {audit.duration_s:.0f}s")


def demo(
    env: EnvOption = None,
    patients: Annotated[int, typer.Option("--patients", "-n", help="Synthetic patients to generate.")] = 300,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same data).")] = 7,
    keep: Annotated[bool, typer.Option(help="Leave the stack running afterwards.")] = False,
) -> None:
    """Generate FHIR R4 into the emulated S3, run bronze, silver and gold, and query the KPIs with Trino."""
    cfg = config_or_exit(env)
    started = time.monotonic()
    with console.status("starting the embedded stack (moto server, Trino 476)…"):
        state = stack.up(cfg)
    console.print(f"stack: aws={state.aws_endpoint_url} trino={state.trino_url}")
    try:
        console.rule(f"1. generate {patients} patients (seed {seed}) into s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}")
        subprocess.run([sys.executable, "-m", "fhirpulse.cli", "generate", "--patients", str(patients),
                        "--seed", str(seed), "--out", "raw", "--env", cfg.env], check=True)

        bound = cfg.with_endpoint(state.aws_endpoint_url)
        _run_layers(bound)

        console.rule("5. Trino reads what Spark wrote, through the Glue catalog")
        _bronze_overview(state, cfg)
        console.rule("6. the KPIs, from the gold tables through Trino (definitions: docs/kpis.md)")
        _print_table("KPIs", ["kpi", "value"], [[k, v] for k, v in query_kpis(cfg, state.trino_url)[0].items()])
        console.print(f"done in {time.monotonic() - started:.0f}s")
    finally:
        if not keep:
            stack.down()
            console.print("stack stopped")
