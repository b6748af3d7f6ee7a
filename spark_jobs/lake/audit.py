"""One audit row per job run and layer: a JSON object in S3 under the layer's audit table.

The audit table (`<layer db>.audit`) is a plain Glue table of JSON lines (Hive's JSON SerDe), one object
per run named after the run id, so a run's row costs one S3 PUT — not a Hudi commit (1–5 s each, three
per pipeline run) — and needs no Spark: a run with nothing to do starts no JVM. A retry of the same run id
overwrites its object: one row per run id, the last. Athena reads the table natively; Trino reads it
through its Hive connector on the same Glue catalog (`trino.query_catalog`, which hands Hudi tables to the
Hudi catalog). The job registers the table on first write, from the schema below.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.core.logs import log_event

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
# Hive's timestamp text, which Hive's JSON SerDe (Athena) and Trino's Hive connector both read.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_SPARK_TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:ss.SSSSSS"
_GLUE_TYPES = {"string": "string", "timestamp": "timestamp", "double": "double", "bigint": "bigint"}
JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"


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

    def row(self) -> dict:
        """The audit table's row: AUDIT_SCHEMA's columns, timestamps as UTC Hive timestamp text."""
        return {"run_id": self.run_id, "layer": self.layer, "status": self.status,
                "started_at": _utc_text(self.started_at), "ended_at": _utc_text(self.ended_at or datetime.now(UTC)),
                "duration_s": self.duration_s, "files": self.files, "records_in": self.records_in,
                "rows_out": self.rows_out, "quarantined": self.quarantined,
                "tables": ",".join(sorted(self.tables)) or None, "error": self.error,
                "details": json.dumps(self.details, sort_keys=True, default=str) if self.details else None}


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def audit_location(cfg: Config, layer: str) -> str:
    """s3://bucket/lake/<layer>/<audit table> (no trailing slash)."""
    return cfg.s3.table_uri(layer, cfg.layer(layer).audit_table)


def _table_input(cfg: Config, layer: str) -> dict:
    columns = [{"Name": f.name, "Type": _GLUE_TYPES[f.dataType.simpleString()]} for f in AUDIT_SCHEMA.fields]
    return {
        "Name": cfg.layer(layer).audit_table,
        "Description": f"One row per {layer} job run (FHIRPulse audit; JSON objects, one per run id)",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json", "EXTERNAL": "TRUE"},
        "StorageDescriptor": {
            "Columns": columns,
            "Location": audit_location(cfg, layer) + "/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
        },
    }


_registered: set[tuple[str | None, str, str]] = set()
_registered_lock = threading.Lock()


def ensure_audit_table(cfg: Config, layer: str) -> None:
    """Register the layer's audit table in Glue, or bring its entry to this definition (an older entry,
    e.g. the Hudi table of earlier versions, is replaced). Checked once per process and table."""
    wanted = _table_input(cfg, layer)
    database = cfg.glue.database(layer)
    key = (aws.service_endpoint(cfg, "glue"), database, wanted["Name"])
    with _registered_lock:
        if key in _registered:
            return
        glue = aws.client(cfg, "glue")
        try:
            entry = glue.get_table(DatabaseName=database, Name=wanted["Name"])["Table"]
        except ClientError as err:
            if err.response["Error"]["Code"] != "EntityNotFoundException":
                raise
            glue.create_table(DatabaseName=database, TableInput=wanted)
        else:
            if _definition(entry) != _definition(wanted):
                glue.update_table(DatabaseName=database, TableInput=wanted)
        _registered.add(key)


def _definition(table: dict) -> tuple:
    sd = table.get("StorageDescriptor", {})
    return ([(c["Name"], c["Type"]) for c in sd.get("Columns", [])], sd.get("Location"),
            sd.get("SerdeInfo", {}).get("SerializationLibrary"))


def write_audit(cfg: Config, record: AuditRecord) -> None:
    """Land the run's audit row (and log it): one JSON object named after the run id, so a retry of the same
    run id replaces its row."""
    ensure_audit_table(cfg, record.layer)
    bucket_and_key = audit_location(cfg, record.layer).removeprefix("s3://")
    bucket, _, prefix = bucket_and_key.partition("/")
    aws.client(cfg, "s3").put_object(Bucket=bucket, Key=f"{prefix}/{record.run_id}.json",
                                     Body=(json.dumps(record.row()) + "\n").encode(),
                                     ContentType="application/json")
    log_event("audit", **{k: v for k, v in asdict(record).items() if k != "started_at"},
              duration_s=record.duration_s)


def read_audit(spark: SparkSession, cfg: Config, layer: str) -> DataFrame:
    """The layer's audit rows as AUDIT_SCHEMA (empty before the first run)."""
    location = audit_location(cfg, layer)
    spark.catalog.refreshByPath(location)
    reader = spark.read.schema(AUDIT_SCHEMA).option("timestampFormat", _SPARK_TIMESTAMP_FORMAT)
    try:
        return reader.json(location + "/")
    except Exception as err:  # noqa: BLE001 - Spark's "path does not exist" has no narrower type in Python
        if "PATH_NOT_FOUND" not in str(err) and "Path does not exist" not in str(err):
            raise
        return spark.createDataFrame([], AUDIT_SCHEMA)
