"""`fhirpulse report`: one self-contained HTML file of the KPIs, every number pulled through the SQL engine.

A trend chart per KPI (the rate as a line, its denominator as bars), tables by hospital and by age band, the
hospitals with the highest HAI rate, the data-quality findings of the silver runs and the recent job runs.
Charts are plotly with plotly.js inlined once, so the file opens offline. Each KPI value on the page carries
`data-kpi` (and `data-group`) attributes, so a browser test can read what the page shows.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

from fhirpulse.core.config import Config
from fhirpulse.reporting.engine import Engine
from fhirpulse.reporting.kpis import KPI_KEYS, RATES, query_kpis
from fhirpulse.reporting.queries import load_query

# KPI -> chart title (its denominator comes from RATES)
CHARTED = {"mortality_rate": "In-hospital mortality", "readmission_rate": "30-day readmission",
           "hai_rate": "Hospital-acquired infection", "alos_days": "Average length of stay (days)"}


def _rows(engine: Engine, cfg: Config, name: str, **params: str) -> list[dict]:
    columns, rows = engine.query(load_query(name).render(cfg, params))
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _cell(column: str, value, group: str | None = None) -> str:
    if value is None:
        text = "–"
    elif isinstance(value, float):
        text = f"{value:.4f}"
    else:
        text = str(value)
    attrs = ""
    if column in KPI_KEYS:
        attrs = f' data-kpi="{column}"' + (f' data-group="{html.escape(str(group))}"' if group is not None else "")
        attrs += f' data-value="{"" if value is None else value!r}"'
    return f"<td{attrs}>{html.escape(text)}</td>"


def _table(rows: list[dict], group_column: str | None = None, columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class='empty'>no rows</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(c, r[c], r[group_column] if group_column else None) for c in columns)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _trend_chart(trend: list[dict], kpi: str) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title, denominator = CHARTED[kpi], RATES[kpi][1]
    months = [r["discharge_month"] for r in trend]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=months, y=[r[denominator] for r in trend], name=denominator, opacity=0.35,
                         marker_color="#7f8c8d"), secondary_y=True)
    fig.add_trace(go.Scatter(x=months, y=[r[kpi] for r in trend], name=kpi, mode="lines+markers",
                             line={"color": "#c0392b", "width": 2}), secondary_y=False)
    fig.update_layout(title=title, height=320, margin={"l": 50, "r": 50, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    fig.update_yaxes(title_text=kpi, secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=denominator, secondary_y=True, rangemode="tozero", showgrid=False)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{kpi}",
                       config={"displaylogo": False, "responsive": True})


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
section { margin: 2rem 0; } .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.chart { border: 1px solid #e5e5e5; border-radius: 6px; padding: 0.3rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #eee; padding: 0.3rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f6f6f6; }
.summary td[data-kpi] { font-weight: 600; } .empty { color: #888; }
"""


def render_report(cfg: Config, engine: Engine) -> str:
    """The whole HTML document."""
    import plotly.offline

    summary = query_kpis(cfg, engine)[0]
    trend = _rows(engine, cfg, "kpi_trend_by_month")
    by_hospital = _rows(engine, cfg, "kpis_by_hospital")
    by_age = _rows(engine, cfg, "kpis_by_age_band")
    worst_query = load_query("worst_hospitals_by_hai")
    worst = _rows(engine, cfg, worst_query.name)
    quality = _rows(engine, cfg, "data_quality")
    runs = _rows(engine, cfg, "pipeline_runs")
    charts = "".join(f"<div class='chart'>{_trend_chart(trend, kpi)}</div>" for kpi in CHARTED)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("Overall", "All stays in the gold KPI table. Definitions: docs/kpis.md.",
         f"<div class='summary'>{_table([summary], columns=list(KPI_KEYS))}</div>"),
        ("Trends by discharge month", "Line: the KPI; bars: its denominator (right axis).",
         f"<div class='charts'>{charts}</div>"),
        ("By hospital", "", _table(by_hospital, "hospital_id", ["hospital_name", *KPI_KEYS])),
        ("By age band at admission", "", _table(by_age, "age_band")),
        ("Highest hospital-acquired infection rates",
         f"Hospitals with at least {worst_query.params['min_denominator'].default} HAI-eligible stays.",
         _table(worst, columns=["hospital_name", "hai_stays", "hai_denominator", "hai_rate", "stays"])),
        ("Data quality (silver runs)", "Rows flagged by each rule; flagged rows are kept.", _table(quality)),
        ("Pipeline runs (audit tables)", "", _table(runs)),
    ]
    body = "".join(f"<section><h2>{html.escape(title)}</h2>" + (f"<p>{html.escape(note)}</p>" if note else "")
                   + content + "</section>" for title, note, content in sections)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>FHIRPulse KPIs ({cfg.env})</title>"
            f"<style>{_CSS}</style><script>{plotly.offline.get_plotlyjs()}</script></head><body>"
            f"<h1>FHIRPulse KPI report</h1><p class='meta'>environment {html.escape(cfg.env)} · "
            f"{html.escape(engine.name)} · generated {generated}</p>{body}</body></html>")


def write_report(cfg: Config, engine: Engine, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(cfg, engine), encoding="utf-8")
    return out
