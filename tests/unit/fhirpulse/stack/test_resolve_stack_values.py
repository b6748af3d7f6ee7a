"""`resolve_stack_values` resolves the config's "stack" values from the running stack's state file."""

from __future__ import annotations

import os

import pytest

from fhirpulse.core.config import ConfigError, load_config
from fhirpulse.stack import resolve_stack_values
from fhirpulse.stack.state import StackState


def test_spark_master_stack_is_the_stack_s_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("FHIRPULSE_STATE_DIR", str(tmp_path))
    cfg = load_config("cluster")
    with pytest.raises(ConfigError, match="needs a running embedded stack"):
        resolve_stack_values(cfg)
    state = StackState(env="cluster", aws_endpoint_url="http://127.0.0.1:4999", pids={"moto": os.getpid()},
                       workdir=str(tmp_path))
    state.save()
    with pytest.raises(ConfigError, match=r"spark\.master: 'stack' needs the stack's Spark cluster.*--spark-workers"):
        resolve_stack_values(cfg)
    state.spark_master_url = "spark://127.0.0.1:7999"
    state.save()
    bound = resolve_stack_values(cfg)
    assert (bound.spark.master, bound.aws.endpoint_url) == ("spark://127.0.0.1:7999", "http://127.0.0.1:4999")
    assert resolve_stack_values(load_config("local")).spark.master == "local[2]"  # only "stack" is resolved
