"""The pipeline definition (`config/workflow/pipeline.json`): which jobs run, in which order, on what.

One file, read by Terraform (the Glue workflow, its conditional triggers and the Glue jobs) and by the local
workflow runner, so the two cannot drift. A job starts when every job in its `after` list SUCCEEDED (Glue's
conditional trigger with logical AND); jobs are listed in an order where each one's `after` comes first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from fhirpulse.core.config.fields import Strict
from fhirpulse.core.config.loader import config_dir
from fhirpulse.core.errors import ConfigError, validation_problems

PIPELINE_FILE = "workflow/pipeline.json"
# The Spark settings Hudi needs on any Spark: every local session (spark_jobs/lake/session.py) and every Glue
# job (Terraform, through the resolved pipeline `fhirpulse package` writes) take them from here.
HUDI_SPARK_CONF: dict[str, str] = {
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.kryo.registrator": "org.apache.spark.HoodieSparkKryoRegistrar",
    "spark.sql.extensions": "org.apache.spark.sql.hudi.HoodieSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.hudi.catalog.HoodieCatalog",
    "spark.sql.hive.convertMetastoreParquet": "false",
}
JobName = Literal["bronze", "silver", "gold"]


class PipelineJob(Strict):
    name: JobName
    description: str = Field(min_length=1)
    after: tuple[JobName, ...] = Field(default=(), description="Starts when all of these SUCCEEDED.")
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = Field(default="G.1X", description="Glue worker.")
    workers: int = Field(default=2, ge=2, le=299, description="Glue workers (a driver and executors).")
    timeout_minutes: int = Field(default=60, ge=1, le=2880, description="Glue job timeout (ends as TIMEOUT).")


class GlueRuntime(Strict):
    """What every Glue job of the pipeline gets besides its own arguments (Terraform's glue_jobs module)."""

    version: Literal["5.0"] = Field(default="5.0", description="Glue 5.0: Spark 3.5.4, Python 3.11, Java 17.")
    python_modules: tuple[str, ...] = Field(
        default=(), description="pip requirements the job library needs beyond Glue's own (--additional-python-"
        "modules), pinned.")
    spark_conf: dict[str, str] = Field(
        default_factory=lambda: dict(HUDI_SPARK_CONF), min_length=1,
        description="Spark settings passed as --conf (default: Hudi's, the same as a local session's).")
    arguments: dict[str, str] = Field(default_factory=dict, description="Further Glue job parameters.")

    @model_validator(mode="after")
    def _own_keys(self) -> GlueRuntime:
        reserved = {"--conf", "--additional-python-modules", "--extra-py-files"} & set(self.arguments)
        if reserved:
            raise ValueError(f"arguments: {sorted(reserved)} are built from the other keys, not set here")
        if bad := [k for k in self.arguments if not k.startswith("--")]:
            raise ValueError(f"arguments: Glue parameters start with '--': {bad}")
        return self


class Pipeline(Strict):
    description: str = ""
    glue: GlueRuntime
    jobs: tuple[PipelineJob, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Pipeline:
        seen: set[str] = set()
        for job in self.jobs:
            if job.name in seen:
                raise ValueError(f"job {job.name!r} is listed twice")
            unknown = [a for a in job.after if a not in seen]
            if unknown:
                raise ValueError(f"job {job.name!r} runs after {unknown}, which must be listed before it")
            seen.add(job.name)
        if self.jobs[0].after:
            raise ValueError("the first job cannot wait for another")
        return self

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]


def load_pipeline(path: Path | None = None) -> Pipeline:
    """`config/workflow/pipeline.json` (in $FHIRPULSE_CONFIG_DIR when set), validated; problems name the key."""
    path = path or config_dir() / PIPELINE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"pipeline definition {path} not found") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"invalid pipeline {path}: line {err.lineno} column {err.colno}: {err.msg}") from None
    try:
        return Pipeline.model_validate(data)
    except ValidationError as err:
        problems = [f"  {p}" for p in validation_problems(err)]
        raise ConfigError("\n".join([f"invalid pipeline {path}:", *problems])) from None
