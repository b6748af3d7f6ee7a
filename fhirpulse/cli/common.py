"""Options and helpers shared by the command modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from fhirpulse.core.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from fhirpulse.cli.progress import RunDisplay

EnvOption = Annotated[
    str | None,
    typer.Option("--env", "-e", envvar="FHIRPULSE_ENV", help="Config environment: config/<env>.json."),
]
EXIT_LOCKED = 3  # another workflow run holds the lock


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def config_or_exit(env: str | None) -> Config:
    """The environment's config as written (an endpoint of 'stack' stays unresolved)."""
    try:
        return load_config(env)
    except ConfigError as err:
        fail(str(err), code=2)


def bind_or_exit(cfg: Config) -> Config:
    """`cfg` with an endpoint of 'stack' resolved to the running embedded stack's, for commands that call
    AWS or run jobs (job code never reads the stack's state file)."""
    from fhirpulse import stack

    try:
        return stack.resolve_stack_values(cfg)
    except ConfigError as err:
        fail(str(err), code=2)


def bound_config_or_exit(env: str | None) -> Config:
    return bind_or_exit(config_or_exit(env))


def make_runner(cfg: Config, display: RunDisplay | None = None):
    """The local workflow runner of config/workflow/pipeline.json; `display` (if any) shows each change."""
    from fhirpulse.core.config.pipeline import load_pipeline
    from fhirpulse.workflow.runner import Runner

    try:
        pipeline = load_pipeline()
    except ConfigError as err:
        fail(str(err), code=2)
    return Runner(cfg, pipeline, on_change=display.update if display else None)
