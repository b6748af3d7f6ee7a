"""The KPI formulas, defined once, and KPI summaries from the gold KPI table.

The KPI table holds counts by month x hospital x age band, so every roll-up is exact; rates are computed
from the summed counts (never averaged), none when the denominator is 0. `RATES` is the one definition of
each rate: `summarize` computes it here (`fhirpulse kpis`, the demo, the report's summary) and
`kpi_columns_sql` writes it as SQL for the analyst queries (their `${kpi_columns}` placeholder).
"""

from __future__ import annotations

from fhirpulse.core.config import Config
from fhirpulse.reporting.engine import Engine

# `--by` choice -> the KPI table's column
GROUPINGS = {"month": "discharge_month", "hospital": "hospital_id", "age_band": "age_band"}
SUMMED = ("stays", "deaths", "readmission_index", "readmissions", "hai_denominator", "hai_stays", "los_days_sum")
# rate -> (numerator, denominator) among the summed columns
RATES = {"mortality_rate": ("deaths", "stays"), "readmission_rate": ("readmissions", "readmission_index"),
         "hai_rate": ("hai_stays", "hai_denominator"), "alos_days": ("los_days_sum", "stays")}
KPI_KEYS = ("stays", "deaths", "mortality_rate", "readmission_index", "readmissions", "readmission_rate",
            "hai_denominator", "hai_stays", "hai_rate", "alos_days")


def rate_sql(kpi: str) -> str:
    """A rate over summed counts in SQL (Trino and Athena): null when the denominator is 0."""
    numerator, denominator = RATES[kpi]
    return f"CAST(sum({numerator}) AS DOUBLE) / nullif(sum({denominator}), 0)"


def kpi_columns_sql(indent: str = "    ") -> str:
    """Every KPI_KEYS column as SQL over the KPI table (counts summed, rates from the sums), one per line."""
    columns = [f"{rate_sql(key)} AS {key}" if key in RATES else f"sum({key}) AS {key}" for key in KPI_KEYS]
    return f",\n{indent}".join(columns)


def kpi_sql(cfg: Config, by: str | None = None) -> str:
    table = f"{cfg.trino.catalog}.{cfg.glue.gold_database}.{cfg.gold.kpi_table}"
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in SUMMED)
    if by is None:
        return f"SELECT {sums} FROM {table}"
    column = GROUPINGS[by]
    return f"SELECT {column} AS {by}, {sums} FROM {table} GROUP BY {column} ORDER BY {column}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def summarize(sums: dict) -> dict:
    """The KPI object (KPI_KEYS, in that order) from summed counts."""
    values = {column: int(sums[column]) for column in SUMMED if column != "los_days_sum"}
    values |= {kpi: _ratio(float(sums[num]), sums[den]) for kpi, (num, den) in RATES.items()}
    return {key: values[key] for key in KPI_KEYS}


def query_kpis(cfg: Config, engine: Engine, by: str | None = None) -> list[dict]:
    """One summary (no `by`), or one per group with the group's value first."""
    columns, rows = engine.query(kpi_sql(cfg, by))
    out = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        summary = summarize(record)
        out.append(({by: record[by]} | summary) if by else summary)
    return out
