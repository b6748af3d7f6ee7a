"""The analyst SQL and the HTML report on the real stack: every query in trino/queries runs on the embedded
Trino over a generated population, and each KPI it returns equals the same KPI computed by Spark from the
gold stays table; the report renders in headless Chromium with every chart drawn and the same numbers as
`fhirpulse kpis --format json`.

Its own environment ("reptest") on the shared moto server and Trino.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from pyspark.sql import functions as F

from fhirpulse.core.config.pipeline import load_pipeline
from fhirpulse.reporting.engine import engine_for
from fhirpulse.reporting.queries import all_queries
from fhirpulse.reporting.report import CHARTED
from fhirpulse.stack.landing import upload_tree
from fhirpulse.workflow.runner import Runner
from spark_jobs.lake import hudi
from spark_jobs.lake.tables import stays_table
from tests.integration.helpers import generate, isolated_env

pytestmark = pytest.mark.integration
ENV = "reptest"
RATES = {"mortality_rate": ("deaths", "stays"), "readmission_rate": ("readmissions", "readmission_index"),
         "hai_rate": ("hai_stays", "hai_denominator"), "alos_days": ("los_days_sum", "stays")}
PARAMS = {"worst_hospitals_by_hai": {"min_denominator": "3"}}  # a small population: judge small hospitals
GROUPINGS = {"kpi_trend_by_month": "discharge_month", "kpis_by_hospital": "hospital_id",
             "kpis_by_age_band": "age_band", "worst_hospitals_by_hai": "hospital_id"}


@pytest.fixture(scope="module")
def populated(running_stack, lake_spark, tmp_path_factory):
    with isolated_env(ENV, tmp_path_factory.mktemp("config")) as cfg:
        batch = generate(tmp_path_factory.mktemp("gen") / "batch-1", ENV, 40, 31)
        upload_tree(cfg, batch, batch.name)
        # one record that breaks a data-quality rule, so the data-quality query has something to say
        unborn = batch.parent / "unborn"
        unborn.mkdir()
        (unborn / "Patient.ndjson").write_text(json.dumps({
            "resourceType": "Patient", "id": "unborn", "birthDate": "2999-01-01",
            "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}}) + "\n")
        upload_tree(cfg, unborn, unborn.name)
        run = Runner(cfg, load_pipeline(), session=lambda: lake_spark).run(trigger="test")
        assert run.state == "SUCCEEDED", run.summary()
        yield cfg


def _spark_kpis(spark, cfg, column: str | None) -> dict:
    """The KPIs per group computed by Spark from the gold stays (one row per stay), not the KPI table."""
    stays = hudi.read(spark, cfg, stays_table(cfg))
    keys = [column] if column else []
    rows = stays.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("stays"), F.sum(F.col("died").cast("long")).alias("deaths"),
        F.sum(F.col("readmission_index").cast("long")).alias("readmission_index"),
        F.sum(F.col("readmitted").cast("long")).alias("readmissions"),
        F.sum(F.col("hai_eligible").cast("long")).alias("hai_denominator"),
        F.sum(F.col("hai").cast("long")).alias("hai_stays"), F.sum("los_days").alias("los_days_sum")).collect()
    out = {}
    for row in rows:
        values = row.asDict()
        for kpi, (num, den) in RATES.items():
            values[kpi] = values[num] / values[den] if values[den] else None
        out[values[column] if column else None] = values
    return out


def _close(got, expected, what: str) -> None:
    if isinstance(expected, float) or isinstance(got, float):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), what
    else:
        assert got == expected, what


@pytest.mark.parametrize("query", all_queries(), ids=lambda q: q.name)
def test_every_query_runs_on_trino_and_its_kpis_equal_spark_over_the_gold_stays(populated, lake_spark, query):
    cfg = populated
    columns, rows = engine_for(cfg).query(query.render(cfg, PARAMS.get(query.name)))
    assert rows, f"{query.name} returned nothing"
    group = GROUPINGS.get(query.name)
    if group is None:
        return  # data quality and pipeline runs: not KPIs (their content is checked below)
    expected = _spark_kpis(lake_spark, cfg, group)
    compared = 0
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        for column, value in record.items():
            if column in expected[record[group]] and column != group:
                _close(value, expected[record[group]][column], f"{query.name} {record[group]} {column}")
                compared += 1
    assert compared >= len(rows) * 3
    if query.name == "worst_hospitals_by_hai":  # only hospitals with enough eligible stays, worst first
        assert all(dict(zip(columns, r, strict=True))["hai_denominator"] >= 3 for r in rows)
        rates = [dict(zip(columns, r, strict=True))["hai_rate"] for r in rows]
        assert rates == sorted(rates, reverse=True)
        eligible = [k for k, v in expected.items() if v["hai_denominator"] >= 3]
        assert len(rows) == min(10, len(eligible))


def test_the_audit_queries_report_the_runs_and_the_rules(populated):
    cfg = populated
    engine = engine_for(cfg)
    from fhirpulse.reporting.queries import load_query

    columns, runs = engine.query(load_query("pipeline_runs").render(cfg))
    layers = sorted({r[columns.index("layer")] for r in runs})
    assert layers == ["bronze", "gold", "silver"]
    columns, flags = engine.query(load_query("data_quality").render(cfg))
    assert columns == ["run_id", "started_at", "status", "rule", "flagged_rows"]
    assert [(r[3], r[4]) for r in flags] == [("birth_date_in_future", 1)]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Page(HTMLParser):
    """What the rendered DOM shows: each chart's SVG content and every data-kpi cell."""

    def __init__(self):
        super().__init__()
        self.kpis: dict[tuple[str, str | None], str] = {}
        self.chart_paths: dict[str, int] = {}
        self._chart: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and (a.get("id") or "").startswith("chart-"):
            self._chart, self._depth = a["id"], 0
            self.chart_paths[self._chart] = 0
        elif self._chart and tag == "div":
            self._depth += 1
        if self._chart and tag == "path":
            self.chart_paths[self._chart] += 1
        if tag == "td" and "data-kpi" in a:
            self.kpis[(a["data-kpi"], a.get("data-group"))] = a.get("data-value", "")

    def handle_endtag(self, tag):
        if self._chart and tag == "div":
            if self._depth == 0:
                self._chart = None
            else:
                self._depth -= 1


def test_the_report_renders_in_headless_chromium_with_the_numbers_of_fhirpulse_kpis(populated, tmp_path):
    browser = _chromium()
    if browser is None:
        message = "no chromium on this machine (apt-get install chromium); the report's browser test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    cli = [sys.executable, "-m", "fhirpulse.cli"]
    report = tmp_path / "report.html"
    subprocess.run([*cli, "report", "--out", str(report), "--env", ENV], check=True, capture_output=True)
    assert "cdn" not in re.sub(r"<script>.*?</script>", "", report.read_text(), flags=re.S).lower()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1300,4000", "--virtual-time-budget=10000"]
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", report.as_uri()], check=True, capture_output=True,
                   timeout=120)
    assert shot.stat().st_size > 20_000
    dom = subprocess.run([browser, *flags, "--dump-dom", report.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    page = _Page()
    page.feed(dom)
    assert set(page.chart_paths) == {f"chart-{kpi}" for kpi in CHARTED}
    assert all(count > 0 for count in page.chart_paths.values()), page.chart_paths  # every chart drew its SVG
    shown = {kpi: value for (kpi, group), value in page.kpis.items() if group is None}
    expected = json.loads(subprocess.run([*cli, "kpis", "--format", "json", "--env", ENV], check=True,
                                         capture_output=True, text=True).stdout)
    assert set(shown) == set(expected)
    for kpi, value in expected.items():
        _close(None if shown[kpi] == "" else float(shown[kpi]) if isinstance(value, float) else int(shown[kpi]),
               value, kpi)
    by_hospital = json.loads(subprocess.run([*cli, "kpis", "--by", "hospital", "--format", "json", "--env", ENV],
                                            check=True, capture_output=True, text=True).stdout)
    for row in by_hospital:
        assert int(page.kpis[("stays", row["hospital"])]) == row["stays"]
    if os.environ.get("FHIRPULSE_REPORT_SCREENSHOT"):  # refresh the README's screenshot: docs/report.png
        shutil.copy(shot, os.environ["FHIRPULSE_REPORT_SCREENSHOT"])
