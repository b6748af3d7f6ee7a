"""The analyst SQL in `trino/queries/`: one file per question, run unchanged on Trino and on Athena.

Each file starts with a header of `--` comments:

    -- answers: <the question it answers>
    -- param: <name> integer|string <default> (<what it means>)

The body names tables as `${gold_database}.${kpi_table}` and so on: the environment's names from
`config/<env>.json`, filled in here, so the same file serves every environment and both engines.
`${kpi_columns}` stands for every KPI column over the KPI table (counts summed, rates from the sums), written
from the one formula table in `fhirpulse/reporting/kpis.py`. Parameter
values are checked against their declared type (integers stay integers, strings become SQL literals), so a
`--param` can never change the shape of a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core.config import REPO_ROOT, Config, ConfigError
from fhirpulse.core.templates import fill
from fhirpulse.reporting.kpis import kpi_columns_sql

QUERIES_DIR = REPO_ROOT / "trino" / "queries"
_PARAM = re.compile(r"^--\s*param:\s*(?P<name>[a-z_][a-z0-9_]*)\s+(?P<kind>integer|string)\s+(?P<default>\S+)"
                    r"(?:\s+\((?P<help>.*)\))?\s*$")


class QueryError(ConfigError):
    """A query that cannot be found, parsed or filled in; the message names the file and the reason."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: str
    help: str = ""

    def literal(self, value: str, query: str) -> str:
        if self.kind == "integer":
            if not re.fullmatch(r"-?\d{1,18}", value.strip()):
                raise QueryError(f"{query}: --param {self.name} must be an integer, got {value!r}")
            return str(int(value))
        return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    answers: str
    params: dict[str, Param]
    body: str

    def render(self, cfg: Config, values: dict[str, str] | None = None) -> str:
        """The SQL with the environment's table names and the parameters (defaults where not given)."""
        values = values or {}
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise QueryError(f"{self.name}: unknown --param {', '.join(unknown)} (this query takes: {known})")
        filled = {name: p.literal(values.get(name, p.default), self.name) for name, p in self.params.items()}
        try:
            values = table_names(cfg) | {"kpi_columns": kpi_columns_sql()} | filled
            return fill(self.body, values, str(self.path)).strip().rstrip(";")
        except ConfigError as err:
            raise QueryError(str(err)) from None


def table_names(cfg: Config) -> dict[str, str]:
    """What `${…}` in a query file may name."""
    return {
        "bronze_database": cfg.glue.bronze_database, "silver_database": cfg.glue.silver_database,
        "gold_database": cfg.glue.gold_database, "kpi_table": cfg.gold.kpi_table,
        "stays_table": cfg.gold.stays_table, "bronze_audit_table": cfg.bronze.audit_table,
        "silver_audit_table": cfg.silver.audit_table, "gold_audit_table": cfg.gold.audit_table,
        "quarantine_table": cfg.bronze.quarantine_table,
    }


def parse_query(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    answers, params = None, {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if line.lower().startswith("-- answers:"):
            answers = line.split(":", 1)[1].strip()
        elif line.lower().startswith("-- param:"):
            match = _PARAM.match(line)
            if not match:
                raise QueryError(f"{path}: bad param line {line!r} (expected `-- param: name integer|string "
                                 "default (help)`)")
            params[match["name"]] = Param(match["name"], match["kind"], match["default"], match["help"] or "")
    if not answers:
        raise QueryError(f"{path}: the header must say what the query answers (`-- answers: …`)")
    return Query(path.stem, path, answers, params, text)


def all_queries() -> list[Query]:
    return [parse_query(p) for p in sorted(QUERIES_DIR.glob("*.sql"))]


def load_query(name_or_path: str) -> Query:
    """A query by name (`kpis_by_hospital`) or by the path of a .sql file."""
    path = Path(name_or_path)
    if path.suffix == ".sql" and path.is_file():
        return parse_query(path)
    candidate = QUERIES_DIR / f"{name_or_path}.sql"
    if candidate.is_file():
        return parse_query(candidate)
    known = ", ".join(q.stem for q in sorted(QUERIES_DIR.glob("*.sql")))
    raise QueryError(f"no query {name_or_path!r}: neither a .sql file nor one of {known}")
