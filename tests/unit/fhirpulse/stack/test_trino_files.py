"""Trino's server files come from trino/etc and trino/catalog, filled from the config's `trino` section."""

import re

import pytest

from fhirpulse.core.config import ConfigError, load_config
from fhirpulse.core.templates import fill
from fhirpulse.stack.processes import _jvm_options, _trino_etc


def test_every_template_is_filled_from_config_and_trino_s_env_lookups_pass_through(tmp_path):
    cfg = load_config("local")
    trino = cfg.trino.model_copy(update={"heap": "5G", "processors": 4, "task_concurrency": 4})
    etc = _trino_etc(cfg.model_copy(update={"trino": trino}), tmp_path, 18080, tmp_path / "home")
    config = (etc / "config.properties").read_text()
    assert "http-server.http.port=18080" in config and "task.concurrency=4" in config
    assert f"query.max-memory={cfg.trino.query_max_memory}" in config
    assert "-Xmx5G" in _jvm_options(etc) and "-XX:ActiveProcessorCount=4" in _jvm_options(etc)
    # node settings become system properties, as Trino's launcher passes them: loopback only
    assert {"-Dnode.bind-ip=127.0.0.1", "-Dnode.internal-address=127.0.0.1",
            f"-Dnode.data-dir={tmp_path / 'trino' / 'data'}"} <= set(_jvm_options(etc))
    assert "coordinator=true" in config and "node-scheduler.include-coordinator=true" in config
    assert "discovery.uri=http://127.0.0.1:18080" in config
    for path in etc.rglob("*"):
        if path.is_file():
            assert not re.search(r"\$\{[a-z_]+\}", path.read_text()), path  # nothing left unfilled
    catalog = (etc / "catalog" / f"{cfg.trino.catalog}.properties").read_text()
    assert "${ENV:FHIRPULSE_AWS_ENDPOINT}" in catalog  # Trino resolves these itself
    assert "hive.metastore.glue.endpoint-url=${ENV:FHIRPULSE_GLUE_ENDPOINT}" in catalog


def test_an_unknown_placeholder_names_the_file():
    assert fill("a=${x} b='$.path' c=${ENV:HOME}", {"x": 1}, "f") == "a=1 b='$.path' c=${ENV:HOME}"
    with pytest.raises(ConfigError, match=r"trino/etc/config.properties: unknown placeholder \$\{y\}"):
        fill("${y}", {"x": 1}, "trino/etc/config.properties")


def test_task_concurrency_must_be_a_power_of_two():
    data = load_config("local").model_dump()
    data["trino"]["task_concurrency"] = 3
    from fhirpulse.core.config import parse_config

    with pytest.raises(ConfigError, match="trino.task_concurrency: Value error, must be a power of two"):
        parse_config(data)
