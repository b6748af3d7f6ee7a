"""What a job entry script needs before it can call the library: its config, on Glue or locally.

On Glue the whole config arrives as the job argument `--fhirpulse_config` (JSON of a `config/<env>.json`),
so the job never reads a file that is not shipped. Locally the same argument works, or `--env` picks
`config/<env>.json`, with `--aws-endpoint-url` for an endpoint the file leaves to the tooling ('stack').
"""

from __future__ import annotations

import argparse
import json

from fhirpulse.core.config import Config, ConfigError, load_config, parse_config
from spark_jobs.lake.session import on_glue

CONFIG_ARG = "fhirpulse_config"


def _config_from_json(text: str) -> Config:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"--{CONFIG_ARG}: not valid JSON: {err}") from None
    return parse_config(data, f"--{CONFIG_ARG}")


def job_config(argv: list[str]) -> Config:
    if on_glue():
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

        return _config_from_json(getResolvedOptions(argv, ["JOB_NAME", CONFIG_ARG])[CONFIG_ARG])
    parser = argparse.ArgumentParser(description="Run a FHIRPulse job locally (the same code Glue runs).")
    parser.add_argument(f"--{CONFIG_ARG}", default=None, help="The whole config as JSON (as on Glue).")
    parser.add_argument("--env", default=None, help="config/<env>.json (default: $FHIRPULSE_ENV or local)")
    parser.add_argument("--aws-endpoint-url", default=None, help="Use this AWS endpoint instead of the config's.")
    known, _ = parser.parse_known_args(argv[1:])
    cfg = _config_from_json(getattr(known, CONFIG_ARG)) if getattr(known, CONFIG_ARG) else load_config(known.env)
    if known.aws_endpoint_url:
        cfg = cfg.with_endpoint(known.aws_endpoint_url)
    return cfg
