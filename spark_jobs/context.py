"""What a job entry script needs before it can call the library: its config, locally or on Glue.

On Glue the whole config arrives as the job argument `--fhirpulse_config` (JSON; Terraform writes it from
the same `config/<env>.json`), so the job never reads a file that is not shipped; locally `--env` picks
`config/<env>.json`.
"""

from __future__ import annotations

import argparse
import json

from fhirpulse.config import Config, ConfigError, load_config, parse_config
from spark_jobs.session import on_glue


def job_config(argv: list[str]) -> Config:
    if on_glue():
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

        args = getResolvedOptions(argv, ["JOB_NAME", "fhirpulse_config"])
        try:
            data = json.loads(args["fhirpulse_config"])
        except ValueError as err:
            raise ConfigError(f"--fhirpulse_config: not valid JSON: {err}") from None
        return parse_config(data, "--fhirpulse_config")
    parser = argparse.ArgumentParser(description="Run a FHIRPulse job locally (the same code Glue runs).")
    parser.add_argument("--env", default=None, help="config/<env>.json (default: $FHIRPULSE_ENV or local)")
    known, _ = parser.parse_known_args(argv[1:])
    return load_config(known.env)
