"""`fhirpulse kpis`: the gold KPIs through the SQL engine, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse.cli.common import EnvOption, config_or_exit, fail
from fhirpulse.reporting.kpis import KPI_KEYS, query_kpis


class By(StrEnum):
    month = "month"
    hospital = "hospital"
    age_band = "age_band"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def kpis(
    by: Annotated[By | None, typer.Option("--by", help="One row per discharge month, hospital or age band.")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    env: EnvOption = None,
) -> None:
    """Hospital KPIs from the gold tables (docs/kpis.md): stays, in-hospital mortality, 30-day readmission,
    hospital-acquired infection, average length of stay. With --format json and no --by: one JSON object."""
    from fhirpulse.core.config import ConfigError
    from fhirpulse.reporting.engine import engine_for

    cfg = config_or_exit(env)
    try:
        engine = engine_for(cfg)
    except ConfigError as err:
        fail(str(err), code=2)
    rows = query_kpis(cfg, engine, by.value if by else None)
    if output is Format.json:
        print(json.dumps(rows if by else rows[0], indent=2))
    elif output is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=[*([by.value] if by else []), *KPI_KEYS])
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_table(rows, by.value if by else None)


def _print_table(rows: list[dict], by: str | None) -> None:
    table = Table(title="FHIRPulse KPIs (gold)")
    columns = [*([by] if by else []), *KPI_KEYS]
    for column in columns:
        table.add_column(column, justify="left" if column == by else "right")
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    Console().print(table)


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
