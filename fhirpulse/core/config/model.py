"""The typed project configuration: one model for `config/<env>.json`, a section per concern."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from fhirpulse.core import terminology
from fhirpulse.core.config.fields import GlueName, ResourceName, S3Bucket, S3Prefix, Strict
from fhirpulse.core.config.generator import GeneratorConfig
from fhirpulse.core.errors import ConfigError

LAYERS = ("bronze", "silver", "gold")
STACK_SPARK = "stack"
SERVICES_WITH_ENDPOINTS = ("s3", "dynamodb", "glue", "sns", "sqs", "events", "logs", "lambda", "iam", "sts",
                           "athena")  # spark.master: the embedded stack's Spark cluster
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)

class AwsConfig(Strict):
    endpoint_url: str | None = Field(
        default=None,
        description="AWS API endpoint. 'stack' = the running embedded stack's moto server (from its state "
        "file); an http(s) URL = an emulator; null = real AWS.",
    )
    service_endpoints: dict[str, str] = Field(
        default_factory=dict,
        description="Per-service endpoints that differ from endpoint_url, e.g. {\"glue\": \"http://glue:5000\"} "
        "(compose: LocalStack for the rest, a moto container for the Glue catalog).")
    access_key_id: str | None = Field(default=None, description="Only for emulators; real AWS uses its chain.")
    secret_access_key: str | None = None

    @field_validator("service_endpoints")
    @classmethod
    def _services(cls, value: dict[str, str]) -> dict[str, str]:
        for service, url in value.items():
            if service not in SERVICES_WITH_ENDPOINTS:
                raise ValueError(f"unknown service {service!r} (one of {', '.join(SERVICES_WITH_ENDPOINTS)})")
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{service}: must be an http(s):// URL")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None or value == "stack" or value.startswith(("http://", "https://")):
            return value
        raise ValueError("must be null, 'stack' or an http(s):// URL")


class S3Config(Strict):
    bucket: S3Bucket
    raw_prefix: S3Prefix = "raw/fhir"
    lake_prefix: S3Prefix = "lake"
    scripts_prefix: S3Prefix = Field(
        default="scripts", description="Where deployments put the Glue entry script, the job library zip "
        "and the silver ViewDefinitions (Terraform uploads them; the jobs' role may only read here).")

    @property
    def raw_uri(self) -> str:
        return f"s3://{self.bucket}/{self.raw_prefix}/"

    def layer_uri(self, layer: str) -> str:
        """Where a layer's tables live: s3://bucket/lake/<layer>."""
        return f"s3://{self.bucket}/{self.lake_prefix}/{layer}"

    def table_uri(self, layer: str, table: str) -> str:
        """Where a Hudi table of a layer lives: s3://bucket/lake/<layer>/<table>."""
        return f"{self.layer_uri(layer)}/{table}"


class GlueConfig(Strict):
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


class DynamoDbConfig(Strict):
    ledger_table: ResourceName


class AlertsConfig(Strict):
    sns_topic: ResourceName
    test_queue: ResourceName | None = Field(
        default=None, description="An SQS queue subscribed to the topic, so tests can read the alerts."
    )
    job_failure_rule: ResourceName
    relay_queue: ResourceName | None = Field(
        default=None,
        description="Emulators only: the failure rule targets this SQS queue and a forwarder publishes each "
        "event to the topic (moto's EventBridge cannot deliver to SNS). null = the rule targets the topic.")


class WorkflowConfig(Strict):
    """The workflow around the jobs: Glue's on AWS; locally `fhirpulse run pipeline` and `fhirpulse watch`."""

    name: ResourceName = Field(description="The Glue workflow (and the local runner's lock) name.")
    job_prefix: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,200}$",
                            description="Glue job names are <job_prefix><job>, e.g. fhirpulse-local-bronze.")
    state_table: ResourceName = Field(
        description="DynamoDB table of the local runner: its lock item and one item per workflow run.")
    lease_seconds: int = Field(
        default=60, ge=5, le=3600,
        description="The runner's lock lease, renewed every third of it; a killed runner's lock expires then.")
    job_wait_seconds: float = Field(
        default=900, ge=0, le=86400,
        description="How long a job run waits while another run of the same layer holds its lease (Hudi tables "
        "have one writer at a time); then it fails naming the holder.")
    trigger_queue: ResourceName | None = Field(
        default=None, description="SQS queue receiving the raw prefix's S3 ObjectCreated notifications "
        "(what `fhirpulse watch` polls); null = no local trigger.")
    debounce_seconds: float = Field(
        default=5.0, ge=0, le=300,
        description="A burst of uploads ends after this long without a new one; then one workflow run starts.")
    log_group: str = Field(pattern=r"^[A-Za-z0-9_./#-]{1,512}$",
                           description="CloudWatch Logs group of per-run metrics (records, seconds).")

    log_retention_days: int = Field(
        default=30, description="Retention of every log group the platform creates (metrics, jobs, trigger).")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of CloudWatch's retention periods: {list(LOG_RETENTION_DAYS)}")
        return value

    def job_name(self, job: str) -> str:
        return f"{self.job_prefix}{job}"


class SparkConfig(Strict):
    """Spark sizing, read only by the session factory (spark_jobs/lake/session.py); ignored on Glue, where
    the job's worker type decides."""

    master: str = Field(
        default="local[2]",
        description="Spark master for runs off Glue: local[N] (one process), spark://host:port (a standalone "
        "cluster), or 'stack' (the embedded stack's cluster, started with `stack up --spark-workers N`).")
    driver_memory: str = Field(
        default="6g", pattern=r"^\d+[kmgKMG]$",
        description="Driver heap for local runs (the whole job runs in the driver with local[N]); bronze on "
        "1M resources needs about 6g.")
    shuffle_partitions: int = Field(default=4, ge=1, le=10_000,
                                    description="spark.sql.shuffle.partitions and Hudi's write parallelism.")
    workers: int = Field(default=0, ge=0, le=64,
                         description="Workers of the embedded stack's Spark cluster (0 = none; `stack up "
                         "--spark-workers N` overrides).")
    worker_cores: int = Field(default=1, ge=1, le=64, description="Cores of each embedded cluster worker.")
    executor_memory: str = Field(default="2g", pattern=r"^\d+[kmgKMG]$",
                                 description="Heap of each executor on a cluster (one per worker).")
    driver_host: str = Field(
        default="127.0.0.1", pattern=r"^[A-Za-z0-9.-]+$",
        description="The address executors reach the driver at (a container's name in compose).")
    jit: Literal["auto", "quick", "full"] = Field(
        default="auto",
        description="The local driver JVM's JIT: 'quick' compiles with C1 only (-XX:TieredStopAtLevel=1; a "
        "small run spends less of its 2 cores compiling), 'full' is the JVM's default (fastest on big inputs), "
        "'auto' is quick when the workflow runner knows the run's input is under quick_jit_max_mb.")
    quick_jit_max_mb: int = Field(default=256, ge=0, le=1_000_000,
                                  description="With jit 'auto': the largest input (raw bytes to ingest, "
                                  "plus the bronze lake on a --full run) that gets the quick JIT.")

    @field_validator("master")
    @classmethod
    def _master(cls, value: str) -> str:
        if value == STACK_SPARK or re.fullmatch(r"local(\[(\d+|\*)\])?|spark://[A-Za-z0-9.-]+:\d+", value):
            return value
        raise ValueError("must be local[N], spark://host:port or 'stack'")

    @property
    def is_cluster(self) -> bool:
        return self.master.startswith("spark://")


class TrinoConfig(Strict):
    catalog: GlueName = Field(default="hudi", description="The Hudi connector's catalog: the lake's Hudi tables.")
    query_catalog: GlueName = Field(
        default="hive", description="The catalog the analyst SQL runs in: the Hive connector on the same Glue "
        "catalog, which reads the plain audit tables and hands Hudi tables to `catalog`.")
    url: str | None = Field(default=None, description="null in embedded mode: the stack starts Trino.")
    heap: str = Field(default="3G", pattern=r"^\d+[MG]$")
    query_max_memory: str = Field(default="1GB", pattern=r"^\d+(MB|GB)$")
    processors: int = Field(default=2, ge=1, le=512, description="Cores Trino's JVM may use "
                            "(-XX:ActiveProcessorCount); the embedded stack shares them with Spark.")
    task_concurrency: int = Field(default=2, ge=1, le=256, description="task.concurrency (a power of two).")

    @model_validator(mode="after")
    def _two_catalogs(self) -> TrinoConfig:
        if self.query_catalog == self.catalog:
            raise ValueError("query_catalog must differ from catalog (one is the Hive connector, one Hudi's)")
        return self

    @field_validator("task_concurrency")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("must be a power of two (Trino requires it)")
        return value


class AthenaConfig(Strict):
    """Athena for an AWS environment (`aws.endpoint_url: null` and no `trino.url`): the same SQL files."""

    workgroup: str = Field(default="primary", pattern=r"^[A-Za-z0-9._-]{1,128}$",
                           description="Terraform creates it (results in the lake bucket) unless it is 'primary'.")
    results_prefix: S3Prefix = Field(default="athena-results",
                                     description="Key prefix of the workgroup's query results in the lake bucket.")
    catalog: str = Field(default="AwsDataCatalog", description="The Glue Data Catalog as Athena names it.")
    poll_seconds: float = Field(default=0.5, gt=0, le=10)


class LayerConfig(Strict):
    """What every layer has: its audit table (one row per job run) in the layer's Glue database."""

    audit_table: GlueName = "audit"


class BronzeConfig(LayerConfig):
    max_record_bytes: int = Field(
        default=8_000_000, ge=1_000, le=500_000_000,
        description="A record (line or bundle entry) longer than this goes to quarantine, not to bronze.")
    quarantine_table: GlueName = "quarantine"


class SilverConfig(LayerConfig):
    views_dir: str = Field(
        default="config/views",
        description="Folder of the silver ViewDefinitions, one table per file named by the view's `name` "
        "(each needs an `id` column); relative to the checkout, absolute, or s3://bucket/prefix (on Glue).")


class GoldConfig(LayerConfig):
    """KPI parameters (docs/kpis.md defines each KPI); the defaults are the documented definitions."""

    stays_table: GlueName = "stays"
    kpi_table: GlueName = "kpi_monthly"
    measurement_period_end: date | None = Field(
        default=None, description="Readmission censoring: index stays must end >= window days before this "
        "date (UTC midnight); null = the newest stay end in the data.")
    readmission_window_days: int = Field(default=30, ge=1, le=365)
    hai_infection_codes: tuple[str, ...] = Field(default=terminology.HAI_INFECTION_CODES, min_length=1)
    death_dispositions: tuple[str, ...] = terminology.DEATH_DISPOSITIONS
    readmission_excluded_dispositions: tuple[str, ...] = terminology.READMISSION_EXCLUDED_DISPOSITIONS
    elective_priorities: tuple[str, ...] = terminology.ELECTIVE_PRIORITIES


class Config(Strict):
    env: GlueName
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    aws: AwsConfig = AwsConfig()
    s3: S3Config
    glue: GlueConfig
    dynamodb: DynamoDbConfig
    alerts: AlertsConfig
    workflow: WorkflowConfig
    spark: SparkConfig = SparkConfig()
    trino: TrinoConfig = TrinoConfig()
    athena: AthenaConfig | None = None
    bronze: BronzeConfig = BronzeConfig()
    silver: SilverConfig = SilverConfig()
    gold: GoldConfig = GoldConfig()
    generator: GeneratorConfig = GeneratorConfig()

    @property
    def is_emulated(self) -> bool:
        return self.aws.endpoint_url is not None

    def with_endpoint(self, endpoint_url: str | None) -> Config:
        """The same config with another AWS endpoint (e.g. the running stack's URL in place of 'stack')."""
        return self.model_copy(update={"aws": self.aws.model_copy(update={"endpoint_url": endpoint_url})})

    def layer(self, name: str) -> LayerConfig:
        """The section of a lakehouse layer (bronze, silver or gold)."""
        if name not in LAYERS:
            raise ConfigError(f"unknown layer {name!r} (expected one of {', '.join(LAYERS)})")
        return getattr(self, name)
