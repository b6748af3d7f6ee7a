"""A Hudi table's timeline as files under `.hoodie/`: completed commits (listed through the S3 API, so a
job decides it has nothing to do without Spark), instants a killed writer left pending, and their rollback.
"""

from __future__ import annotations

import re

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from spark_jobs.lake.tables import HudiTable


def _glob(spark, pattern: str) -> list[str]:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return sorted(status.getPath().getName() for status in fs.globStatus(hadoop_path) or [])


def layer_table_paths(spark, cfg: Config, layer: str) -> list[str]:
    """Every Hudi table under the layer's prefix (those with a timeline), by path."""
    base = cfg.s3.layer_uri(layer)
    return [f"{base}/{name}" for name in _glob(spark, f"{base}/*")
            if _glob(spark, f"{base}/{name}/.hoodie/hoodie.properties")]


def layer_bytes(cfg: Config, layer: str) -> int:
    """Bytes stored under the layer's prefix (every table's files and timeline)."""
    pages = aws.client(cfg, "s3").get_paginator("list_objects_v2").paginate(
        Bucket=cfg.s3.bucket, Prefix=f"{cfg.s3.lake_prefix}/{layer}/")
    return sum(item["Size"] for page in pages for item in page.get("Contents", []))


def pending_instants(spark, path: str) -> list[str]:
    """Instants of the table at `path` that were requested or started but never completed: what a writer
    killed mid-commit leaves behind (a rollback removes them and their files)."""
    started: set[str] = set()
    completed: set[str] = set()
    for name in _glob(spark, f"{path}/.hoodie/[0-9]*"):
        instant, _, state = name.partition(".")
        (started if state.endswith(("requested", "inflight")) else completed).add(instant)
    return sorted(started - completed)


def rollback_failed_writes(spark, path: str) -> list[str]:
    """Roll back the table's pending instants with Hudi's own write client (what its next writer would do
    eagerly; done here so a table that the recovering run does not write is cleaned up too). Only safe while
    no other writer is live: jobs call it holding their layer's lease. Returns the instants rolled back."""
    pending = pending_instants(spark, path)
    if not pending:
        return []
    jvm = spark.sparkContext._jvm
    hudi = jvm.org.apache.hudi
    config = (hudi.config.HoodieWriteConfig.newBuilder().withPath(path)
              .withProps({"hoodie.metadata.enable": "false"}).build())
    client = hudi.client.SparkRDDWriteClient(hudi.client.common.HoodieSparkEngineContext(spark.sparkContext._jsc),
                                             config)
    try:
        client.rollbackFailedWrites()
    finally:
        client.close()
    left = pending_instants(spark, path)
    if left:
        raise RuntimeError(f"Hudi table {path}: pending instants {left} survived the rollback")
    return pending


def completed_commits(cfg: Config, table: HudiTable) -> list[str]:
    """Instant times of the table's completed COW commits, oldest first (empty when the table does not exist
    yet). Listed through the S3 API, not Spark: deciding that there is nothing to do needs no JVM."""
    bucket, _, path = table.path(cfg).removeprefix("s3://").partition("/")
    pages = aws.client(cfg, "s3").get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{path}/.hoodie/", Delimiter="/")
    names = (item["Key"].rsplit("/", 1)[-1] for page in pages for item in page.get("Contents", []))
    return sorted(name.removesuffix(".commit") for name in names if _COMPLETED_COMMIT.fullmatch(name))


_COMPLETED_COMMIT = re.compile(r"[0-9]+\.commit")
