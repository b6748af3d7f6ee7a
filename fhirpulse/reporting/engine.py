"""The SQL engine a command talks to, chosen from config: one `query(sql) -> (columns, rows)` for all.

    trino.url set                      -> that Trino (compose, or any Trino on the same Glue catalog)
    aws.endpoint_url set (an emulator) -> the running embedded stack's Trino
    real AWS with an `athena` section  -> Athena in the configured workgroup (boto3; no extra client)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fhirpulse.core import aws
from fhirpulse.core.config import Config, ConfigError

Result = tuple[list[str], list[list]]


@dataclass(frozen=True)
class Engine:
    name: str  # "trino http://…" or "athena <workgroup>"
    query: Callable[[str], Result]


def _trino(url: str, catalog: str) -> Engine:
    from fhirpulse.stack.sql import trino_query

    return Engine(f"trino {url}", lambda sql: trino_query(url, catalog, sql, user="fhirpulse-query"))


_ATHENA_TYPES: dict[str, Callable[[str], object]] = {
    "tinyint": int, "smallint": int, "integer": int, "bigint": int, "double": float, "float": float,
    "real": float, "decimal": float, "boolean": lambda v: v == "true",
}


def _athena(cfg: Config) -> Engine:
    assert cfg.athena is not None
    athena, settings = aws.client(cfg, "athena"), cfg.athena

    def query(sql: str) -> Result:
        started = athena.start_query_execution(QueryString=sql, WorkGroup=settings.workgroup,
                                               QueryExecutionContext={"Catalog": settings.catalog})
        query_id = started["QueryExecutionId"]
        while True:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(settings.poll_seconds)
        if status["State"] != "SUCCEEDED":
            raise RuntimeError(f"Athena query {query_id} {status['State']}: {status.get('StateChangeReason', '')}")
        columns, rows, first = [], [], True
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            columns = [c["Name"] for c in info]
            data = page["ResultSet"]["Rows"][1:] if first else page["ResultSet"]["Rows"]  # row 1: the header
            first = False
            for row in data:
                rows.append([None if "VarCharValue" not in cell else _ATHENA_TYPES.get(c["Type"], str)(
                    cell["VarCharValue"]) for cell, c in zip(row["Data"], info, strict=True)])
        return columns, rows

    return Engine(f"athena {settings.workgroup}", query)


def engine_for(cfg: Config) -> Engine:
    if cfg.trino.url:
        return _trino(cfg.trino.url, cfg.trino.query_catalog)
    if cfg.is_emulated:
        from fhirpulse.stack.state import load_state

        state = load_state()
        if state is None or not state.trino_url:
            raise ConfigError("no SQL engine: the embedded stack is not running (`fhirpulse stack up`), and "
                              "trino.url is not set in the config")
        return _trino(state.trino_url, cfg.trino.query_catalog)
    if cfg.athena is not None:
        return _athena(cfg)
    raise ConfigError("no SQL engine for this environment: set trino.url, or an `athena` section for AWS")
