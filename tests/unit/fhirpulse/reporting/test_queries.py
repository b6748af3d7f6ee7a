"""The analyst SQL: every file says what it answers, fills in the environment's names, and parses as both
Trino and Athena (engine v3) SQL; parameters keep their declared types."""

import pytest
import sqlglot
from sqlglot.errors import ParseError

from fhirpulse.core.config import load_config
from fhirpulse.reporting.queries import QUERIES_DIR, QueryError, all_queries, load_query

QUERIES = all_queries()


def test_the_questions_are_all_there():
    assert {q.name for q in QUERIES} >= {"kpi_trend_by_month", "kpis_by_hospital", "kpis_by_age_band",
                                         "worst_hospitals_by_hai", "data_quality", "pipeline_runs"}
    assert all(len(q.answers) > 30 and q.answers.endswith("?") for q in QUERIES)


@pytest.mark.parametrize("dialect", ["trino", "athena"])
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_every_query_parses_in_both_dialects_without_ddl(query, dialect):
    sql = query.render(load_config("local"))
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except ParseError as err:
        pytest.fail(f"{query.path} does not parse as {dialect}: {err}")
    assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Query), query.path
    assert "${" not in sql


def test_names_come_from_the_environment():
    cfg = load_config("local")
    sql = load_query("pipeline_runs").render(cfg)
    for database in (cfg.glue.bronze_database, cfg.glue.silver_database, cfg.glue.gold_database):
        assert f"{database}.{cfg.bronze.audit_table}" in sql


def test_parameters_are_typed_and_checked():
    cfg = load_config("local")
    worst = load_query("worst_hospitals_by_hai")
    assert "LIMIT 10" in worst.render(cfg) and "LIMIT 3" in worst.render(cfg, {"max_rows": "3"})
    with pytest.raises(QueryError, match="--param max_rows must be an integer, got '3; DROP TABLE x'"):
        worst.render(cfg, {"max_rows": "3; DROP TABLE x"})
    with pytest.raises(QueryError, match=r"unknown --param colour \(this query takes: min_denominator, max_rows\)"):
        worst.render(cfg, {"colour": "red"})


def test_a_query_is_found_by_name_or_path_and_a_bad_one_is_named(tmp_path):
    assert load_query(str(QUERIES_DIR / "kpis_by_age_band.sql")).name == "kpis_by_age_band"
    with pytest.raises(QueryError, match="no query 'nope': neither a .sql file nor one of data_quality"):
        load_query("nope")
    headless = tmp_path / "headless.sql"
    headless.write_text("SELECT 1")
    with pytest.raises(QueryError, match="the header must say what the query answers"):
        load_query(str(headless))


@pytest.mark.parametrize("name", ["kpi_trend_by_month", "kpis_by_hospital", "kpis_by_age_band"])
def test_kpi_queries_take_every_formula_from_the_one_table(name):
    from fhirpulse.reporting.kpis import KPI_KEYS, RATES, rate_sql

    query = load_query(name)
    assert "${kpi_columns}" in query.body and "nullif" not in query.body  # no formula written in the file
    sql = query.render(load_config("local"))
    for kpi in RATES:
        assert f"{rate_sql(kpi)} AS {kpi}" in sql
    select = sqlglot.parse_one(sql, read="trino")
    assert [e.alias_or_name for e in select.selects][-len(KPI_KEYS):] == list(KPI_KEYS)
