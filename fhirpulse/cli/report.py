"""`fhirpulse report`: the KPI report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse.cli.common import EnvOption, config_or_exit, fail
from fhirpulse.core.config import ConfigError


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML file.")] = Path("reports/kpis.html"),
    env: EnvOption = None,
) -> None:
    """Render the KPI report: one self-contained HTML file (opens offline) with a trend chart per KPI and its
    denominator, tables by hospital and age band, data quality and pipeline runs, all pulled through the
    configured SQL engine."""
    from fhirpulse.reporting.engine import engine_for
    from fhirpulse.reporting.report import write_report

    cfg = config_or_exit(env)
    try:
        with Console(stderr=True).status("querying and rendering…"):
            path = write_report(cfg, engine_for(cfg), out)
    except ConfigError as err:
        fail(str(err), code=2)
    print(path.resolve())
