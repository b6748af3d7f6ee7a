"""`fhirpulse run …`: run one pipeline job on the configured stack (the same library code Glue runs), or the
workflow (`run pipeline`: every job in order, as the Glue workflow does)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fhirpulse.cli.common import EXIT_LOCKED, EnvOption, bound_config_or_exit, fail, make_runner
from fhirpulse.cli.progress import RunDisplay
from fhirpulse.workflow.runs import SUCCEEDED

app = typer.Typer(help="Run pipeline jobs (bronze, silver, gold) on the configured stack.", no_args_is_help=True)
console = Console(stderr=True)


FullOption = Annotated[bool, typer.Option("--full", help="Rebuild from everything upstream, not only what is new.")]
WaitOption = Annotated[float, typer.Option(help="Seconds to wait while a workflow run or another job runs (0: exit "
                                                "at once, with code 3).")]


def _run_job(layer: str, env: str | None, full: bool = False, wait: float = 0) -> None:
    """Run one layer's job in-process, through its Glue entry script's code path, and print its audit
    record; its JSON log lines go to a file per run. It holds the workflow lock meanwhile, so it never runs
    beside a workflow run or another job (a second one waits `wait` seconds, then exits with code 3)."""
    from fhirpulse.stack.spark import local_session
    from fhirpulse.workflow.lock import LockHeld
    from fhirpulse.workflow.runner import holding_the_workflow, run_glue_job
    from fhirpulse.workflow.runs import new_run_id
    from spark_jobs.lake.lifecycle import JobError

    cfg = bound_config_or_exit(env)
    run_id = new_run_id(layer)
    log_file = None
    try:
        with holding_the_workflow(cfg, run_id, wait) as (_, _, log_file), \
                console.status(f"{layer}: running on Spark {cfg.spark.master}…"):
            audit = run_glue_job(cfg, layer, run_id, full, lambda: local_session(cfg, f"fhirpulse-{layer}"))
    except LockHeld as err:
        fail(f"{err}; try again later or pass --wait SECONDS", code=EXIT_LOCKED)
    except JobError as err:
        console.print(f"[red]{err}[/red]\nlog: {log_file}")
        raise typer.Exit(1) from None
    print(json.dumps(asdict(audit) | {"duration_s": audit.duration_s}, default=str, indent=2))
    console.print(f"log: {log_file}")


@app.command()
def bronze(env: EnvOption = None, wait: WaitOption = 0) -> None:
    """Ingest every new raw object (NDJSON, gzip, Bundles, JSON arrays) into bronze Hudi tables.

    Files already COMMITTED in the DynamoDB ledger are skipped; bad records go to the quarantine table.
    """
    _run_job("bronze", env, wait=wait)


@app.command()
def silver(env: EnvOption = None, full: FullOption = False, wait: WaitOption = 0) -> None:
    """Refresh the silver tables (one per ViewDefinition in config/views) from what bronze committed since
    their checkpoints; data-quality flags are counted in the audit record."""
    _run_job("silver", env, full, wait)


@app.command()
def gold(env: EnvOption = None, full: FullOption = False, wait: WaitOption = 0) -> None:
    """Recompute the stays (KPI flags) of the patients silver changed, and the KPI table (docs/kpis.md)."""
    _run_job("gold", env, full, wait)


@app.command()
def land(
    source: Annotated[Path, typer.Argument(exists=True, help="A file or folder of FHIR files to upload.")],
    subprefix: Annotated[str, typer.Option(help="Folder under the raw prefix.")] = "",
    env: EnvOption = None,
) -> None:
    """Upload local FHIR files (e.g. a Synthea export) under the configured raw prefix."""
    from fhirpulse.stack.landing import upload_tree

    keys = upload_tree(bound_config_or_exit(env), source, subprefix)
    console.print(f"uploaded {len(keys)} objects")


@app.command()
def pipeline(
    env: EnvOption = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running workflow run to finish (0: exit "
                                             "at once, with code 3).")] = 0,
    full: Annotated[bool, typer.Option("--full", help="Silver and gold rebuild from everything upstream.")] = False,
) -> None:
    """Run the workflow now: the jobs of config/workflow/pipeline.json in order (bronze -> silver -> gold), each only
    when the jobs before it SUCCEEDED. One workflow run at a time (a DynamoDB lock with a lease)."""
    from fhirpulse.workflow.lock import LockHeld

    cfg = bound_config_or_exit(env)
    with RunDisplay() as display:
        try:
            run = make_runner(cfg, display).run(trigger="manual", wait_seconds=wait, full=full)
        except LockHeld as err:
            fail(f"{err}; try again later or pass --wait SECONDS", code=EXIT_LOCKED)
    console.print(f"\nlog: {run.log_file}")
    if run.state != SUCCEEDED:
        raise typer.Exit(1)
