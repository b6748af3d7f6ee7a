"""`fhirpulse query`: one of the analyst queries in trino/queries (or any .sql file) on the configured engine."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fhirpulse.cli.common import EnvOption, config_or_exit, fail
from fhirpulse.core.config import ConfigError


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _params(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"--param {pair!r}: expected NAME=VALUE", code=2)
        values[name.strip()] = value
    return values


def query(
    name: Annotated[str | None, typer.Argument(help="A query name (see --list) or the path of a .sql file.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE for the query's "
                                                    "declared parameters (repeatable).")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    list_queries: Annotated[bool, typer.Option("--list", help="List the queries and what each answers.")] = False,
    show_sql: Annotated[bool, typer.Option("--sql", help="Print the SQL that would run, and stop.")] = False,
    env: EnvOption = None,
) -> None:
    """Run an analyst query on the configured SQL engine: the embedded Trino, a compose Trino (trino.url),
    or Athena on AWS (an `athena` section). Table names come from the environment's config."""
    from fhirpulse.reporting.engine import engine_for
    from fhirpulse.reporting.queries import all_queries, load_query

    cfg = config_or_exit(env)
    if list_queries or name is None:
        table = Table("query", "answers", "parameters (default)", title="trino/queries")
        for q in all_queries():
            table.add_row(q.name, q.answers, ", ".join(f"{p.name}={p.default}" for p in q.params.values()))
        Console().print(table)
        return
    try:
        sql = load_query(name).render(cfg, _params(param or []))
        if show_sql:
            print(sql)
            return
        columns, rows = engine_for(cfg).query(sql)
    except ConfigError as err:
        fail(str(err), code=2)
    rows = [[_plain(v) for v in row] for row in rows]
    if output is Format.json:
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, default=str))
    elif output is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table(*columns, title=name)
        for row in rows:
            table.add_row(*("–" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
        Console().print(table)
