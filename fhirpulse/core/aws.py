"""The one place that turns config into AWS endpoints, credentials and boto3 clients.

The endpoint is whatever the config holds: a URL (an emulator) or null (real AWS). The value 'stack' means
"the embedded stack that is running"; the tooling that knows the stack
(`fhirpulse.stack.resolve_stack_values`) replaces it with the stack's URL before job code sees the config, so
nothing here reads a state file.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from fhirpulse.core.config import Config, ConfigError

_RETRIES = BotoConfig(retries={"max_attempts": 5, "mode": "standard"})


STACK_ENDPOINT = "stack"


def endpoint_url(cfg: Config) -> str | None:
    """The AWS API endpoint: None for real AWS, else the emulator's URL."""
    url = cfg.aws.endpoint_url
    if url == STACK_ENDPOINT:
        raise ConfigError(
            "aws.endpoint_url: 'stack' is not bound to a running embedded stack here; run through the "
            "`fhirpulse` CLI (which binds it after `fhirpulse stack up`), or give the job a config whose "
            "endpoint is a URL (e.g. --fhirpulse_config)"
        )
    return url


def credentials(cfg: Config) -> dict[str, str]:
    """Static emulator credentials, or {} to let boto3/the SDK use its default chain on real AWS."""
    if cfg.aws.access_key_id and cfg.aws.secret_access_key:
        return {"aws_access_key_id": cfg.aws.access_key_id, "aws_secret_access_key": cfg.aws.secret_access_key}
    return {}


def service_endpoint(cfg: Config, service: str) -> str | None:
    """The endpoint of one service: its entry in `aws.service_endpoints`, else `aws.endpoint_url`."""
    return cfg.aws.service_endpoints.get(service) or endpoint_url(cfg)


def client(cfg: Config, service: str, **extra: Any):
    return _client(service, service_endpoint(cfg, service), cfg.region, tuple(sorted(credentials(cfg).items())),
                   **extra)


@lru_cache(maxsize=64)
def _client(service: str, endpoint: str | None, region: str, creds: tuple, **extra: Any):
    session = boto3.session.Session(region_name=region, **dict(creds))
    return session.client(service, endpoint_url=endpoint, config=_RETRIES, **extra)


def credentials_env(cfg: Config) -> dict[str, str]:
    """The emulator's keys as the AWS SDKs' environment variables (for child JVMs)."""
    return {
        "AWS_ACCESS_KEY_ID": cfg.aws.access_key_id or "",
        "AWS_SECRET_ACCESS_KEY": cfg.aws.secret_access_key or "",
        "AWS_REGION": cfg.region,
    }
