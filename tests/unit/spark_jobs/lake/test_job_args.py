"""Entry-script arguments: the whole config as JSON (as Glue passes it), or an environment plus an endpoint."""

import json

import pytest

from fhirpulse.core.config import ConfigError, config_dir
from spark_jobs.lake.job_args import job_config


def _local() -> dict:
    return json.loads((config_dir() / "local.json").read_text())


def test_the_whole_config_as_json_as_on_glue():
    data = _local() | {"aws": {"endpoint_url": "http://127.0.0.1:4566", "access_key_id": "test",
                               "secret_access_key": "test"}}
    cfg = job_config(["bronze.py", "--fhirpulse_config", json.dumps(data)])
    assert cfg.aws.endpoint_url == "http://127.0.0.1:4566" and cfg.s3.bucket == data["s3"]["bucket"]


def test_an_environment_with_the_endpoint_the_tooling_resolved():
    cfg = job_config(["bronze.py", "--env", "local", "--aws-endpoint-url", "http://127.0.0.1:5000"])
    assert cfg.env == "local" and cfg.aws.endpoint_url == "http://127.0.0.1:5000"


def test_bad_config_json_fails_naming_the_argument():
    with pytest.raises(ConfigError, match="--fhirpulse_config: not valid JSON"):
        job_config(["bronze.py", "--fhirpulse_config", "{not json"])
    data = _local()
    data["s3"]["bucket"] = "UPPER"
    with pytest.raises(ConfigError, match=r"invalid config --fhirpulse_config:\n  s3\.bucket"):
        job_config(["bronze.py", "--fhirpulse_config", json.dumps(data)])
