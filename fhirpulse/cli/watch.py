"""`fhirpulse watch`: start the workflow on raw uploads, locally (the trigger Lambda's handler)."""

from __future__ import annotations

from typing import Annotated

import typer

from fhirpulse.cli.common import EnvOption, bound_config_or_exit, fail, make_runner
from fhirpulse.cli.progress import RunDisplay, console
from fhirpulse.core.config import ConfigError


def watch(
    env: EnvOption = None,
    max_runs: Annotated[int | None, typer.Option(help="Exit after this many workflow runs.")] = None,
    idle_exit: Annotated[float | None, typer.Option(help="Exit after this many seconds without uploads.")] = None,
) -> None:
    """Watch for raw uploads (the S3 notifications queue) and start one workflow run per burst of uploads:
    the trigger Lambda's handler, called locally. Ctrl-C stops."""
    from fhirpulse.workflow.lock import LockHeld
    from fhirpulse.workflow.watch import watch as watch_loop
    from lambdas.ingest_trigger.handler import RetryLater

    cfg = bound_config_or_exit(env)
    runner = make_runner(cfg)
    console.print(f"watching s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/ (queue {cfg.workflow.trigger_queue}, "
                  f"a burst ends after {cfg.workflow.debounce_seconds:g}s without uploads); Ctrl-C stops")

    def start(keys: list[str]) -> str:
        console.print(f"{len(keys)} new raw objects: starting the workflow")
        with RunDisplay() as display:
            runner.on_change = display.update
            try:
                return runner.run(trigger=f"s3: {len(keys)} uploads").run_id
            except LockHeld as err:
                raise RetryLater(str(err)) from err

    try:
        started = watch_loop(cfg, start, max_runs=max_runs, idle_seconds=idle_exit)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ConfigError as err:
        fail(str(err), code=2)
    console.print(f"started {len(started)} workflow run(s): {', '.join(started) or '-'}")
