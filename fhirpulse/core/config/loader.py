"""Load and validate `config/<env>.json`: every problem becomes a `ConfigError` naming the key and reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fhirpulse.core import envvars
from fhirpulse.core.config.model import Config
from fhirpulse.core.errors import ConfigError, validation_problems

ENV_VAR = envvars.ENV
CONFIG_DIR_VAR = envvars.CONFIG_DIR
DEFAULT_ENV = "local"
# The checkout this package runs from (locally); on Glue the config arrives as a job argument instead.
REPO_ROOT = Path(__file__).resolve().parents[3]


def config_dir() -> Path:
    return envvars.path(CONFIG_DIR_VAR, REPO_ROOT / "config")


def resolve_env(env: str | None = None) -> str:
    return env or envvars.get(ENV_VAR) or DEFAULT_ENV


def parse_config(data: Any, source: Path | str = "<memory>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        lines = [f"invalid config {source}:", *(f"  {p}" for p in validation_problems(err))]
        raise ConfigError("\n".join(lines)) from None


def load_config(env: str | None = None, path: Path | None = None) -> Config:
    """Load `config/<env>.json` (env from the argument, $FHIRPULSE_ENV, else 'local')."""
    path = path or config_dir() / f"{resolve_env(env)}.json"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json"))
        raise ConfigError(f"config file {path} not found (known environments: {', '.join(known) or 'none'})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"invalid config {path}: line {err.lineno} column {err.colno}: {err.msg}") from None
    return parse_config(data, path)
