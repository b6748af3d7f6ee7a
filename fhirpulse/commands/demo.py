"""`fhirpulse demo`: start the embedded stack, run the pipeline end to end, print what it did, stop."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse import stack
from fhirpulse.commands.common import EnvOption, config_or_exit

console = Console()


def _trino_rows(state, cfg, sql: str, schema: str) -> list[list]:
    import trino

    host, port = state.trino_url.removeprefix("http://").split(":")
    cur = trino.dbapi.connect(host=host, port=int(port), user="fhirpulse-demo", catalog=cfg.trino.catalog,
                              schema=schema).cursor()
    cur.execute(sql)
    return cur.fetchall()


def demo(
    env: EnvOption = None,
    keep: Annotated[bool, typer.Option(help="Leave the stack running afterwards.")] = False,
) -> None:
    """Round-trip a small Hudi table from Spark to Trino through the emulated AWS and print it."""
    cfg = config_or_exit(env)
    started = time.monotonic()
    with console.status("starting the embedded stack (moto server, Trino 476)…"):
        state = stack.up(cfg)
    console.print(f"stack: aws={state.aws_endpoint_url} trino={state.trino_url}")
    try:
        from spark_jobs import hudi
        from spark_jobs.session import build_session

        with console.status("Spark: writing a Hudi table and upserting one row…"):
            spark = build_session(cfg, "fhirpulse-demo")
            table = hudi.HudiTable("bronze", "demo_roundtrip", ["id"], "version")
            rows = [("a", 1, "first"), ("b", 1, "first")]
            hudi.write(spark.createDataFrame(rows, "id string, version long, value string"), cfg, table,
                       "bulk_insert")
            hudi.write(spark.createDataFrame([("b", 2, "upserted")], "id string, version long, value string"),
                       cfg, table, "upsert")
            spark.stop()
        result = _trino_rows(state, cfg, f"SELECT id, version, value FROM {table.name} ORDER BY id",
                             cfg.glue.bronze_database)
        out = Table(title=f"Trino: {cfg.trino.catalog}.{cfg.glue.bronze_database}.{table.name}")
        for col in ("id", "version", "value"):
            out.add_column(col)
        for row in result:
            out.add_row(*map(str, row))
        console.print(out)
        console.print(f"done in {time.monotonic() - started:.0f}s")
    finally:
        if not keep:
            stack.down()
            console.print("stack stopped")
