"""Options and helpers shared by the command modules."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from fhirpulse.core.config import Config, ConfigError, load_config

EnvOption = Annotated[
    str | None,
    typer.Option("--env", "-e", envvar="FHIRPULSE_ENV", help="Config environment: config/<env>.json."),
]


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
        return stack.bind(cfg)
    except ConfigError as err:
        fail(str(err), code=2)


def bound_config_or_exit(env: str | None) -> Config:
    return bind_or_exit(config_or_exit(env))
