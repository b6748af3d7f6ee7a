import json

import pytest

from fhirpulse.core.config import ConfigError, load_config, parse_config


def _local_data() -> dict:
    from fhirpulse.core.config import config_dir

    return json.loads((config_dir() / "local.json").read_text())


def test_every_shipped_environment_loads():
    from fhirpulse.core.config import config_dir

    envs = sorted(p.stem for p in config_dir().glob("*.json"))
    assert "local" in envs
    for env in envs:
        assert load_config(env).env == env


def test_unknown_key_names_its_path():
    data = _local_data()
    data["s3"]["bucket_name"] = "x"
    with pytest.raises(ConfigError, match=r"s3\.bucket_name: Extra inputs are not permitted"):
        parse_config(data)


def test_bad_value_names_its_path_and_reason():
    data = _local_data()
    data["s3"]["bucket"] = "Not_A_Bucket"
    with pytest.raises(ConfigError, match=r"s3\.bucket: String should match pattern"):
        parse_config(data)
    data = _local_data()
    data["aws"]["endpoint_url"] = "localhost:4566"
    with pytest.raises(ConfigError, match=r"aws\.endpoint_url: .*must be null, 'stack' or an http"):
        parse_config(data)


def test_missing_environment_lists_known_ones(tmp_path):
    with pytest.raises(ConfigError, match="not found .*known environments: .*local"):
        load_config("nope")


def test_invalid_json_names_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"env": "x",\n  oops}')
    with pytest.raises(ConfigError, match=r"bad.json: line 2"):
        load_config(path=bad)


def test_every_layer_has_its_own_section_and_audit_table():
    cfg = load_config("local")
    assert [cfg.layer(name).audit_table for name in ("bronze", "silver", "gold")] == ["audit"] * 3
    with pytest.raises(ConfigError, match="unknown layer 'platinum'"):
        cfg.layer("platinum")


def test_generator_codes_are_validated_against_the_terminology():
    data = _local_data()
    data["generator"] = {"discharge_disposition_weights": {"home": 1, "exp": 1}}  # 'exp' only for deaths
    with pytest.raises(ConfigError, match=r"generator\.discharge_disposition_weights: .*unknown alive.*'exp'"):
        parse_config(data)
    data = _local_data()
    data["generator"] = {"comorbidity_prevalence": {"gout": 0.1}}
    with pytest.raises(ConfigError, match=r"generator\.comorbidity_prevalence: .*unknown comorbidities.*'gout'"):
        parse_config(data)


def test_with_endpoint_replaces_only_the_endpoint():
    cfg = load_config("local")
    bound = cfg.with_endpoint("http://127.0.0.1:5000")
    assert bound.aws.endpoint_url == "http://127.0.0.1:5000" and cfg.aws.endpoint_url == "stack"
    assert bound.model_dump(exclude={"aws"}) == cfg.model_dump(exclude={"aws"})


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_aws_environments_load_and_read_views_where_terraform_uploads_them(env):
    cfg = load_config(env)
    assert cfg.aws.endpoint_url is None and cfg.aws.access_key_id is None  # real AWS: its own credential chain
    assert cfg.silver.views_dir == f"s3://{cfg.s3.bucket}/{cfg.s3.scripts_prefix}/views"
    assert cfg.env == env and env in cfg.s3.bucket and env in cfg.workflow.name
    assert cfg.alerts.relay_queue is None  # EventBridge delivers to SNS itself on AWS


def test_log_retention_must_be_a_cloudwatch_period():
    data = _local_data() | {"workflow": _local_data()["workflow"] | {"log_retention_days": 45}}
    with pytest.raises(ConfigError, match=r"workflow\.log_retention_days: .*must be one of CloudWatch"):
        parse_config(data, "x.json")


@pytest.mark.parametrize(("section", "values", "problem"), [
    ("spark", {"master": "yarn"}, r"spark\.master: .*must be local\[N\], spark://host:port or 'stack'"),
    ("spark", {"master": "spark://h"}, r"spark\.master"),
    ("aws", {"service_endpoints": {"glu": "http://x:1"}}, r"aws\.service_endpoints: .*unknown service 'glu'"),
    ("aws", {"service_endpoints": {"glue": "x:1"}}, r"glue: must be an http\(s\):// URL"),
])
def test_bad_spark_master_or_service_endpoint_fails_naming_the_key(section, values, problem):
    data = _local_data()
    data[section] = data.get(section, {}) | values
    with pytest.raises(ConfigError, match=problem):
        parse_config(data, "x.json")


def test_compose_and_cluster_configs_point_where_their_stacks_are():
    from fhirpulse.core import aws

    compose = load_config("compose")
    assert aws.service_endpoint(compose, "glue") == "http://glue:5000"
    assert aws.service_endpoint(compose, "s3") == "http://localstack:4566"
    assert compose.spark.is_cluster and compose.trino.url == "http://trino:8080"
    assert load_config("cluster").spark.master == "stack"


def _without(data: dict, path: tuple[str, ...]) -> dict:
    out = json.loads(json.dumps(data))
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return out


def test_environment_files_hold_only_what_differs_from_the_model_defaults():
    """The model is the one place of every default: a key whose removal leaves the same config restates one."""
    from fhirpulse.core.config import config_dir

    for path in sorted(config_dir().glob("*.json")):
        data = json.loads(path.read_text())
        full = parse_config(data)
        keys = [(k,) for k in data] + [(k, sub) for k, v in data.items() if isinstance(v, dict) for sub in v]
        for key in keys:
            try:
                same = parse_config(_without(data, key)) == full
            except ConfigError:
                continue  # required
            assert not same, f"{path.name}: {'.'.join(key)} repeats the model's default"
