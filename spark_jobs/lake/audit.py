"""One audit row per job run and layer, in a Hudi table beside the layer's tables (`<layer db>.audit`)."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event
from spark_jobs.lake import hudi

AUDIT_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), False),
    T.StructField("layer", T.StringType(), False),
    T.StructField("status", T.StringType(), False),
    T.StructField("started_at", T.TimestampType(), False),
    T.StructField("ended_at", T.TimestampType(), False),
    T.StructField("duration_s", T.DoubleType(), False),
    T.StructField("files", T.LongType(), False),
    T.StructField("records_in", T.LongType(), False),
    T.StructField("rows_out", T.LongType(), False),
    T.StructField("quarantined", T.LongType(), False),
    T.StructField("tables", T.StringType(), True),
    T.StructField("error", T.StringType(), True),
    T.StructField("details", T.StringType(), True),  # JSON: what the layer counts beyond the columns above
])


def new_run_id(layer: str) -> str:
    return f"{layer}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class AuditRecord:
    run_id: str
    layer: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "RUNNING"
    files: int = 0
    records_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    tables: list[str] = field(default_factory=list)
    error: str | None = None
    ended_at: datetime | None = None
    details: dict = field(default_factory=dict)

    def finish(self, status: str, error: str | None = None) -> AuditRecord:
        self.status, self.error, self.ended_at = status, error, datetime.now(UTC)
        return self

    @property
    def duration_s(self) -> float:
        end = self.ended_at or datetime.now(UTC)
        return round((end - self.started_at).total_seconds(), 3)

    def row(self) -> tuple:
        return (self.run_id, self.layer, self.status, self.started_at,
                self.ended_at or datetime.now(UTC), self.duration_s, self.files,
                self.records_in, self.rows_out, self.quarantined, ",".join(sorted(self.tables)) or None,
                self.error, json.dumps(self.details, sort_keys=True, default=str) if self.details else None)


def audit_table(cfg: Config, layer: str) -> hudi.HudiTable:
    return hudi.HudiTable(layer=layer, name=cfg.layer(layer).audit_table, record_key=["run_id"],
                          precombine="ended_at")


def write_audit(spark: SparkSession, cfg: Config, record: AuditRecord, minted_id: bool = False) -> None:
    """Land the run's audit row (and log it); the row is upserted by run id, so a retry rewrites it.
    `minted_id`: the run id was made by this run (`new_run_id`, unique), so no row can have it yet and the
    row is inserted, without Hudi's index lookup (a few tenths of a second of every run)."""
    table = audit_table(cfg, record.layer)
    df = spark.createDataFrame([record.row()], AUDIT_SCHEMA)
    hudi.write(df, cfg, table, hudi.operation_for(spark, cfg, table, new_keys=minted_id), {"run_id": record.run_id})
    log_event("audit", **{k: v for k, v in asdict(record).items() if k != "started_at"},
              duration_s=record.duration_s)
