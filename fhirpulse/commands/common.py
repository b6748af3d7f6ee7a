"""Options and helpers shared by the command modules."""

from __future__ import annotations

from typing import Annotated

import typer

from fhirpulse.config import Config, ConfigError, load_config

EnvOption = Annotated[
    str | None,
    typer.Option("--env", "-e", envvar="FHIRPULSE_ENV", help="Config environment: config/<env>.json."),
]


def config_or_exit(env: str | None) -> Config:
    try:
        return load_config(env)
    except ConfigError as err:
        typer.secho(str(err), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
