"""Typed project configuration: one model, one loader.

`config/<env>.json` is the only place names and endpoints live. The loader validates it with pydantic and
turns any problem into a `ConfigError` that names the JSON path and the reason, so bad config fails fast.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

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
    """Synthetic FHIR R4 generator (`fhirpulse generate`): output layout, population and clinical parameters.

    Rates are *per inpatient admission* unless the name says otherwise; generator/README.md defines each
    realised KPI exactly (the definitions the gold layer and the generator tests use).
    """

    raw_key_template: str = Field(
        default="{raw_prefix}/{resource_type}/dt={date}/{batch}.ndjson",
        description="Object key (or path under --out DIR) of one NDJSON file per resource type per batch. "
        "Placeholders: {raw_prefix} {resource_type} {date} (batch as-of date) {batch} (batch label).",
    )
    bundle_key_template: str = Field(
        default="{raw_prefix}/Bundle/dt={date}/{batch}/{name}.json",
        description="Key of one transaction Bundle per patient (--format bundle); {name} is the patient id, or "
        "'hospitalInformation' for the Organization bundle.",
    )
    summary_prefix: S3Prefix = Field(
        default="generator/summaries",
        description="S3 prefix (sibling of raw, never under it) where S3 runs upload generation-summary JSON.",
    )
    seed: int = Field(default=42, ge=0, le=2**63 - 1, description="Master seed: same seed -> same bytes.")
    patients: int = Field(default=1000, ge=1, le=50_000_000, description="New patients per batch.")
    start_date: date = Field(default=date(2023, 1, 1), description="First day index admissions can start (UTC).")
    end_date: date = Field(
        default=date(2024, 12, 31),
        description="Data as-of date of batch 1 (inclusive): nothing later than this day is emitted in batch 1.",
    )
    batch_interval_days: int = Field(
        default=7, ge=1, le=365, description="Batch N is as of end_date + (N-1) * this many days."
    )
    update_fraction: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="Share of earlier batches' patients re-emitted (changed, newer lastUpdated) by a batch."
    )
    hospitals: int = Field(default=5, ge=1, le=500, description="Number of hospital Organizations.")
    age_mean: float = Field(default=62.0, ge=18, le=100, description="Mean age (years) at start_date.")
    age_sd: float = Field(default=17.0, ge=0, le=50, description="SD of age; ages are clipped to 18..100.")
    admissions_per_patient: float = Field(
        default=1.2, ge=0, le=20,
        description="Mean number of index (non-readmission) inpatient admissions per patient (Poisson).",
    )
    emergency_admission_fraction: float = Field(
        default=0.65, ge=0.0, le=1.0,
        description="Share of admissions that come through the emergency department."
    )
    los_mean_days: float = Field(
        default=5.0, ge=1.5, le=60,
        description="Mean length of stay in calendar days (midnights), LOS = 1 + negative binomial.",
    )
    los_dispersion: float = Field(
        default=1.5, gt=0.05, le=100, description="Negative-binomial shape of LOS-1: smaller = longer tail."
    )
    los_max_days: int = Field(default=90, ge=2, le=365, description="Stays are capped at this many days.")
    in_hospital_death_probability: float = Field(
        default=0.03, ge=0.0, le=1.0,
        description="P(patient dies during an admission): deceasedDateTime at the stay end, "
        "dischargeDisposition exp."
    )
    hai_probability: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="P(an admission has a hospital-acquired infection, onset on hospital day >= 3); "
        "risk grows with exposure days, so only stays of 2+ days can have one."
    )
    hai_death_relative_risk: float = Field(
        default=2.5, ge=1, le=50,
        description="Death risk of stays with an HAI relative to stays without (the overall death rate is kept).",
    )
    poa_infection_probability: float = Field(
        default=0.12, ge=0.0, le=1.0,
        description="P(an admission is for an infection present on admission, onset on day 1)."
    )
    readmission_probability: float = Field(
        default=0.12, ge=0.0, le=1.0,
        description="P(an alive, non-hospice discharge is followed by an inpatient admission "
        "within 30 days)."
    )
    discharge_disposition_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"home": 0.72, "snf": 0.12, "rehab": 0.05, "other-hcf": 0.03, "hosp": 0.03,
                                 "long": 0.02, "aadvice": 0.02, "alt-home": 0.01},
        description="Relative weights of alive discharge dispositions (HL7 discharge-disposition codes; 'hosp' "
        "= hospice, followed by death outside hospital; patients 75+ go to snf twice as often).",
    )
    comorbidity_prevalence: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=lambda: {"hypertension": 0.45, "diabetes": 0.25, "ckd": 0.15, "copd": 0.12,
                                 "heart_failure": 0.10, "atrial_fibrillation": 0.08, "asthma": 0.08,
                                 "depression": 0.15},
        description="Prevalence of chronic comorbidities (onset before start_date), scaled up with age.",
    )
    ed_visits_per_patient: float = Field(
        default=0.6, ge=0, le=50, description="Mean treat-and-release emergency visits per patient (Poisson)."
    )
    followup_visit_probability: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="P(an ambulatory follow-up visit 7-14 days after an alive discharge)."
    )
    vitals_per_day: int = Field(
        default=3, ge=0, le=24,
        description="Vital-sign rounds per inpatient day (HR, RR, temp, SpO2, BP each).",
    )
    labs_per_day: int = Field(default=1, ge=0, le=6, description="Lab panels per inpatient day (6 LOINC labs).")
    validate_sample: float = Field(
        default=0.002, ge=0.0, le=1.0,
        description="Share of resources validated against fhir.resources R4B (plus the first of each type per "
        "chunk; 0 = none, 1 = all). Validating costs ~50x generating: 0.01 adds ~50% CPU, 0.002 ~10%.",
    )
    workers: int | None = Field(default=None, ge=1, le=256, description="Processes; null = CPU count.")
    chunk_patients: int = Field(
        default=250, ge=1, le=100_000,
        description="Patients per unit of work. Output bytes do not depend on workers; gzip member "
        "boundaries do depend on this value.",
    )
    s3_part_size_mb: int = Field(default=16, ge=5, le=5120, description="S3 multipart part size (MiB).")

    @field_validator("discharge_disposition_weights")
    @classmethod
    def _dispositions(cls, value: dict[str, float]) -> dict[str, float]:
        # HL7 discharge-disposition codes except 'exp', which only in-hospital deaths get.
        allowed = {"home", "alt-home", "other-hcf", "hosp", "long", "aadvice", "psy", "rehab", "snf", "oth"}
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"unknown alive discharge dispositions {sorted(unknown)} "
                             f"(allowed: {sorted(allowed)})")
        if sum(value.values()) <= 0:
            raise ValueError("weights must not all be 0")
        return value

    @field_validator("comorbidity_prevalence")
    @classmethod
    def _comorbidities(cls, value: dict[str, float]) -> dict[str, float]:
        known = {"hypertension", "diabetes", "ckd", "copd", "heart_failure", "atrial_fibrillation", "asthma",
                 "depression"}  # the keys of generator/terminology.py COMORBIDITIES
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown comorbidities {sorted(unknown)} (known: {sorted(known)})")
        return value

    @field_validator("end_date")
    @classmethod
    def _window(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and (value - start).days < 60:
            raise ValueError("must be at least 60 days after start_date")
        return value


class BronzeConfig(_Strict):
    max_record_bytes: int = Field(
        default=8_000_000, ge=1_000, le=500_000_000,
        description="A record (line or bundle entry) longer than this goes to quarantine, not to bronze.")
    quarantine_table: GlueName = "quarantine"
    audit_table: GlueName = "audit"


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
    bronze: BronzeConfig = BronzeConfig()
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
