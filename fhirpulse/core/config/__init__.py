"""Typed project configuration: one model, one loader.

`config/<env>.json` is the only place names and endpoints live. The loader validates it with pydantic and
turns any problem into a `ConfigError` that names the JSON path and the reason, so bad config fails fast.
"""

from fhirpulse.core.config.generator import GeneratorConfig
from fhirpulse.core.config.loader import (
    CONFIG_DIR_VAR,
    DEFAULT_ENV,
    ENV_VAR,
    REPO_ROOT,
    config_dir,
    load_config,
    parse_config,
    resolve_env,
)
from fhirpulse.core.config.model import LAYERS, Config, SparkConfig
from fhirpulse.core.errors import ConfigError

__all__ = [
    "CONFIG_DIR_VAR", "DEFAULT_ENV", "ENV_VAR", "LAYERS", "REPO_ROOT", "Config", "ConfigError",
    "GeneratorConfig", "SparkConfig", "config_dir", "load_config", "parse_config", "resolve_env",
]
