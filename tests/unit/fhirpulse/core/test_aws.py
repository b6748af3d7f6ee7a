"""The client factory takes the endpoint from config and never looks for a running stack itself."""

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import ConfigError, load_config


def test_an_unbound_stack_endpoint_fails_naming_the_key_and_what_to_do():
    cfg = load_config("local")
    assert cfg.aws.endpoint_url == "stack"
    with pytest.raises(ConfigError, match=r"aws\.endpoint_url: 'stack' is not bound.*--fhirpulse_config"):
        aws.client(cfg, "s3")


def test_a_bound_endpoint_is_used_as_given():
    cfg = load_config("local").with_endpoint("http://127.0.0.1:5999")
    s3 = aws.client(cfg, "s3")
    assert s3.meta.endpoint_url == "http://127.0.0.1:5999"
    assert aws.credentials_env(cfg) == {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                                        "AWS_REGION": "us-east-1"}


def test_real_aws_uses_the_default_endpoint_and_credential_chain():
    cfg = load_config("local").with_endpoint(None)
    assert aws.endpoint_url(cfg) is None
    assert aws.client(cfg, "s3").meta.endpoint_url.startswith("https://")
