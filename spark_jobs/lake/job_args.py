"""What a job entry script needs before it can call the library: which job, its run id and its config.

On Glue the whole config arrives as the job argument `--fhirpulse_config` (JSON of a `config/<env>.json`),
so the job never reads a file that is not shipped; Glue adds `--JOB_NAME` and `--JOB_RUN_ID`. Locally the
same arguments work, or `--env` picks `config/<env>.json`, with `--aws-endpoint-url` for an endpoint the
file leaves to the tooling ('stack').
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from fhirpulse.core.config import Config, ConfigError, load_config, parse_config
from spark_jobs.lake.session import on_glue

CONFIG_ARG, JOB_ARG, FULL_ARG = "fhirpulse_config", "fhirpulse_job", "fhirpulse_full"


@dataclass(frozen=True)
class JobArgs:
    cfg: Config
    job: str  # bronze | silver | gold
    job_name: str  # the Glue job's name (JOB_NAME)
    run_id: str | None  # Glue's JOB_RUN_ID; None = the job makes one
    full: bool = False


def _config_from_json(text: str) -> Config:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"--{CONFIG_ARG}: not valid JSON: {err}") from None
    return parse_config(data, f"--{CONFIG_ARG}")


def _flag(value: str | None) -> bool:
    if value is None or value.lower() in ("false", "0", "no", ""):
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    raise ConfigError(f"--{FULL_ARG}: expected true or false, got {value!r}")


def job_args(argv: list[str]) -> JobArgs:
    if on_glue():
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

        optional = [FULL_ARG] if f"--{FULL_ARG}" in argv else []  # getResolvedOptions rejects absent names
        opts = getResolvedOptions(argv, ["JOB_NAME", "JOB_RUN_ID", CONFIG_ARG, JOB_ARG, *optional])
        return JobArgs(_config_from_json(opts[CONFIG_ARG]), opts[JOB_ARG], opts["JOB_NAME"], opts["JOB_RUN_ID"],
                       _flag(opts.get(FULL_ARG)))
    parser = argparse.ArgumentParser(description="Run a FHIRPulse job locally (the same code Glue runs).")
    parser.add_argument(f"--{JOB_ARG}", required=True, help="bronze, silver or gold")
    parser.add_argument(f"--{CONFIG_ARG}", default=None, help="The whole config as JSON (as on Glue).")
    parser.add_argument(f"--{FULL_ARG}", default=None, help="true: rebuild from everything upstream.")
    parser.add_argument("--JOB_NAME", default=None)
    parser.add_argument("--JOB_RUN_ID", default=None)
    parser.add_argument("--env", default=None, help="config/<env>.json (default: $FHIRPULSE_ENV or local)")
    parser.add_argument("--aws-endpoint-url", default=None, help="Use this AWS endpoint instead of the config's.")
    known, _ = parser.parse_known_args(argv[1:])
    cfg = _config_from_json(getattr(known, CONFIG_ARG)) if getattr(known, CONFIG_ARG) else load_config(known.env)
    if known.aws_endpoint_url:
        cfg = cfg.with_endpoint(known.aws_endpoint_url)
    job = getattr(known, JOB_ARG)
    return JobArgs(cfg, job, known.JOB_NAME or cfg.workflow.job_name(job), known.JOB_RUN_ID,
                   _flag(getattr(known, FULL_ARG)))


def glue_arguments(cfg: Config, job: str, run_id: str | None = None, full: bool = False) -> list[str]:
    """The arguments Glue would pass the entry script for one run of `job` (used by the local runner)."""
    args = ["--JOB_NAME", cfg.workflow.job_name(job), f"--{JOB_ARG}", job,
            f"--{CONFIG_ARG}", cfg.model_dump_json(), f"--{FULL_ARG}", str(full).lower()]
    return args + (["--JOB_RUN_ID", run_id] if run_id else [])
