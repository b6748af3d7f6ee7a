"""Entry-script arguments: the whole config as JSON (as Glue passes it), or an environment plus an endpoint."""

import json

import pytest

from fhirpulse.core.config import ConfigError, config_dir, load_config
from spark_jobs.lake.job_args import glue_arguments, job_args


def _local() -> dict:
    return json.loads((config_dir() / "local.json").read_text())


def test_the_whole_config_as_json_as_on_glue():
    data = _local() | {"aws": {"endpoint_url": "http://127.0.0.1:4566", "access_key_id": "test",
                               "secret_access_key": "test"}}
    args = job_args(["glue_job.py", "--fhirpulse_job", "silver", "--fhirpulse_config", json.dumps(data)])
    assert args.cfg.aws.endpoint_url == "http://127.0.0.1:4566" and args.cfg.s3.bucket == data["s3"]["bucket"]
    assert (args.job, args.job_name, args.run_id, args.full) == ("silver", "fhirpulse-local-silver", None, False)


def test_an_environment_with_the_endpoint_the_tooling_resolved():
    args = job_args(["glue_job.py", "--fhirpulse_job", "bronze", "--env", "local",
                     "--aws-endpoint-url", "http://127.0.0.1:5000"])
    assert args.cfg.env == "local" and args.cfg.aws.endpoint_url == "http://127.0.0.1:5000"


def test_the_runner_passes_what_glue_passes_and_the_script_reads_it_back():
    cfg = load_config("local").with_endpoint("http://127.0.0.1:5000")
    args = job_args(["glue_job.py", *glue_arguments(cfg, "gold", run_id="jr_1", full=True)])
    assert (args.cfg, args.job, args.job_name, args.run_id, args.full) == (
        cfg, "gold", "fhirpulse-local-gold", "jr_1", True)


def test_bad_arguments_fail_naming_the_argument():
    with pytest.raises(ConfigError, match="--fhirpulse_config: not valid JSON"):
        job_args(["glue_job.py", "--fhirpulse_job", "gold", "--fhirpulse_config", "{not json"])
    data = _local()
    data["s3"]["bucket"] = "UPPER"
    with pytest.raises(ConfigError, match=r"invalid config --fhirpulse_config:\n  s3\.bucket"):
        job_args(["glue_job.py", "--fhirpulse_job", "gold", "--fhirpulse_config", json.dumps(data)])
    with pytest.raises(ConfigError, match="--fhirpulse_full: expected true or false, got 'maybe'"):
        job_args(["glue_job.py", "--fhirpulse_job", "gold", "--env", "local", "--fhirpulse_full", "maybe"])
