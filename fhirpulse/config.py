"""Typed project configuration: one model, one loader.

`config/<env>.json` is the only place names and endpoints live. The loader validates it with pydantic and
turns any problem into a `ConfigError` that names the JSON path and the reason, so bad config fails fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_VAR = "FHIRPULSE_ENV"
CONFIG_DIR_VAR = "FHIRPULSE_CONFIG_DIR"
DEFAULT_ENV = "local"
REPO_ROOT = Path(__file__).resolve().parent.parent

# S3 bucket rules (subset that catches typos): 3-63 chars, lowercase, digits, dots, hyphens.
_BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
# Glue database names: lowercase, digits, underscore (Athena and Trino both accept these unquoted).
_GLUE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,254}$"
_PREFIX_PATTERN = r"^[A-Za-z0-9!_.*'()/-]*[A-Za-z0-9!_.*'()-]$"

S3Bucket = Annotated[str, Field(pattern=_BUCKET_PATTERN)]
S3Prefix = Annotated[str, Field(pattern=_PREFIX_PATTERN, description="key prefix, no leading or trailing '/'")]
GlueName = Annotated[str, Field(pattern=_GLUE_NAME_PATTERN)]
ResourceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]


class ConfigError(ValueError):
    """Raised for any unusable configuration; the message names the key and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AwsConfig(_Strict):
    endpoint_url: str | None = Field(
        default=None,
        description="AWS API endpoint. 'stack' = the running embedded stack's moto server (from its state "
        "file); an http(s) URL = an emulator; null = real AWS.",
    )
    access_key_id: str | None = Field(default=None, description="Only for emulators; real AWS uses its chain.")
    secret_access_key: str | None = None

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "stack" or value.startswith(("http://", "https://")):
            return value
        raise ValueError("must be null, 'stack' or an http(s):// URL")


class S3Config(_Strict):
    bucket: S3Bucket
    raw_prefix: S3Prefix = "raw/fhir"
    lake_prefix: S3Prefix = "lake"
    scripts_prefix: S3Prefix = "scripts"

    @property
    def raw_uri(self) -> str:
        return f"s3://{self.bucket}/{self.raw_prefix}/"

    def table_uri(self, layer: str, table: str) -> str:
        """Where a Hudi table of a layer lives: s3://bucket/lake/<layer>/<table>."""
        return f"s3://{self.bucket}/{self.lake_prefix}/{layer}/{table}"


class GlueConfig(_Strict):
    bronze_database: GlueName
    silver_database: GlueName
    gold_database: GlueName

    def database(self, layer: str) -> str:
        try:
            return {"bronze": self.bronze_database, "silver": self.silver_database, "gold": self.gold_database}[
                layer
            ]
        except KeyError:
            raise ConfigError(f"glue: unknown layer {layer!r} (expected bronze, silver or gold)") from None


class DynamoDbConfig(_Strict):
    ledger_table: ResourceName


class AlertsConfig(_Strict):
    sns_topic: ResourceName
    test_queue: ResourceName | None = Field(
        default=None, description="An SQS queue subscribed to the topic, so tests can read the alerts."
    )
    job_failure_rule: ResourceName


class SparkConfig(_Strict):
    master: str = "local[2]"
    driver_memory: str = Field(default="4g", pattern=r"^\d+[kmgKMG]$")
    shuffle_partitions: int = Field(default=4, ge=1, le=10_000)


class TrinoConfig(_Strict):
    catalog: GlueName = "hudi"
    url: str | None = Field(default=None, description="null in embedded mode: the stack starts Trino.")
    heap: str = Field(default="3G", pattern=r"^\d+[MG]$")
    query_max_memory: str = Field(default="1GB", pattern=r"^\d+(MB|GB)$")


class GeneratorConfig(_Strict):
    raw_key_template: str = "{raw_prefix}/{resource_type}/dt={date}/{batch}.ndjson"


class Config(_Strict):
    env: GlueName
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    aws: AwsConfig = AwsConfig()
    s3: S3Config
    glue: GlueConfig
    dynamodb: DynamoDbConfig
    alerts: AlertsConfig
    spark: SparkConfig = SparkConfig()
    trino: TrinoConfig = TrinoConfig()
    generator: GeneratorConfig = GeneratorConfig()

    @property
    def is_emulated(self) -> bool:
        return self.aws.endpoint_url is not None


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"invalid config {path}:"]
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_VAR, REPO_ROOT / "config"))


def resolve_env(env: str | None = None) -> str:
    return env or os.environ.get(ENV_VAR) or DEFAULT_ENV


def parse_config(data: Any, source: Path | str = "<memory>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_error(Path(str(source)), err)) from None


def load_config(env: str | None = None, path: Path | None = None) -> Config:
    """Load `config/<env>.json` (env from the argument, $FHIRPULSE_ENV, else 'local')."""
    path = path or config_dir() / f"{resolve_env(env)}.json"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json"))
        raise ConfigError(f"config file {path} not found (known environments: {', '.join(known) or 'none'})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"invalid config {path}: line {err.lineno} column {err.colno}: {err.msg}") from None
    return parse_config(data, path)
