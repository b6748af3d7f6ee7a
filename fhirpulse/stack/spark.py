"""The one entry point for a local lakehouse Spark session: the CLI's job runs, the workflow runner, the tests
and the bench scripts start theirs here. It hands the session factory (`spark_jobs.lake.session`) this
machine's side (`fhirpulse.deps.local_runtime`: Java 17, the jars, and for a `spark://` cluster the job library
shipped to the executors), so every caller gets the same session for the same config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fhirpulse import deps
from fhirpulse.core.config import Config
from spark_jobs.lake.session import build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_session(cfg: Config, app_name: str, input_bytes: int | None = None) -> SparkSession:
    """The lakehouse session for `cfg` (Hudi + S3 + the Glue catalog sync settings). `input_bytes`: what the
    run will read, when the caller knows (it picks the JIT, `spark.jit`)."""
    return build_session(cfg, app_name, deps.local_runtime(cluster=cfg.spark.is_cluster), input_bytes)
