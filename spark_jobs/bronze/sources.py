"""Find raw objects under the raw prefix and read them into raw text records.

Every object at any depth is a candidate, whatever its name; its format is sniffed from its first bytes:
NDJSON (plain or gzip) is read line by line with exact line numbers, a single JSON document (a Bundle, one
resource, or an array of resources) whole. Listing is paginated.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from spark_jobs.bronze.records import RAW_RECORD_SCHEMA
from spark_jobs.lake.ndjson import read_lines

SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class UnreadableFileError(RuntimeError):
    """A raw object that cannot be read at all (not a record problem); the job fails and names it."""


@dataclass(frozen=True)
class RawObject:
    key: str
    etag: str
    size: int
    fmt: str = ""  # ndjson | document | empty (set by sniff)
    gzip: bool = False

    @property
    def content_version(self) -> str:
        """What makes one upload of a key distinct from another: its ETag and size."""
        return f"{self.etag}:{self.size}"


def object_uri(cfg: Config, key: str) -> str:
    return f"s3://{cfg.s3.bucket}/{key}"


def list_raw_objects(cfg: Config) -> list[RawObject]:
    s3 = aws.client(cfg, "s3")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.s3.bucket, Prefix=cfg.s3.raw_prefix + "/"):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("/"):  # folder markers are not data
                found.append(RawObject(obj["Key"], obj["ETag"].strip('"'), obj["Size"]))
    return found


def _first_text(head: bytes, is_gzip: bool) -> bytes:
    if not is_gzip:
        return head
    try:  # a truncated gzip stream still yields its first bytes
        return zlib.decompressobj(wbits=31).decompress(head, SNIFF_BYTES)
    except zlib.error as err:
        raise UnreadableFileError(f"not a readable gzip stream: {err}") from None


def sniff(cfg: Config, obj: RawObject) -> RawObject:
    """Decide NDJSON vs single JSON document from the first bytes (and whether it is gzip)."""
    if obj.size == 0:
        return RawObject(obj.key, obj.etag, obj.size, "empty", False)
    s3 = aws.client(cfg, "s3")
    try:
        head = s3.get_object(Bucket=cfg.s3.bucket, Key=obj.key, Range=f"bytes=0-{SNIFF_BYTES - 1}")["Body"].read()
    except Exception as err:  # noqa: BLE001 - any failure to fetch makes the file unreadable
        raise UnreadableFileError(f"s3://{cfg.s3.bucket}/{obj.key}: cannot be read: {err}") from None
    is_gzip = head.startswith(GZIP_MAGIC)
    try:
        text = _first_text(head, is_gzip)
    except UnreadableFileError as err:
        raise UnreadableFileError(f"s3://{cfg.s3.bucket}/{obj.key}: {err}") from None
    first_line, _, rest = text.lstrip().partition(b"\n")
    first_line = first_line.strip()
    fmt = "ndjson"
    if not _is_complete_json(first_line):
        # A document spread over lines (a pretty-printed Bundle or array); one line that is not JSON at all
        # stays NDJSON so that the bad line is quarantined with its number.
        fmt = "document" if first_line.startswith((b"{", b"[")) else "ndjson"
    elif first_line.startswith(b"[") and not rest.strip() and len(head) < SNIFF_BYTES:
        # A whole file that is one JSON array on one line. An array line followed by more lines is NDJSON
        # with a bad first line: read as a document, the lines after the array would be lost.
        fmt = "document"
    return RawObject(obj.key, obj.etag, obj.size, fmt, is_gzip)


def _is_complete_json(line: bytes) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def _versions(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    """(the path as input_file_name() spells it, the object's URI, its content version).

    Spark reports file paths URL-encoded (a space becomes %20), so the join key is built by the same Hadoop
    Path encoding, and the readable URI is what bronze stores.
    """
    hadoop_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path
    rows = [(hadoop_path(object_uri(cfg, o.key)).toUri().toString(), object_uri(cfg, o.key), o.content_version)
            for o in objects]
    return F.broadcast(spark.createDataFrame(rows, "spark_path string, uri string, content_version string"))


def _attach_versions(spark: SparkSession, cfg: Config, df: DataFrame, objects: list[RawObject]) -> DataFrame:
    # A left join: a path that matches no listed object keeps a null version, which the job refuses
    # (a silent inner-join drop would lose records).
    joined = df.join(_versions(spark, cfg, objects), df["source_file"] == F.col("spark_path"), "left")
    return joined.select(F.coalesce("uri", df["source_file"]).alias("source_file"), "content_version",
                         "source_line", "split_start", "row_id", "text")


def read_ndjson(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    """Every line (blank ones too) with its split and a row id, for `records.number_lines` to number."""
    if not objects:
        return spark.createDataFrame([], RAW_RECORD_SCHEMA)
    lines = read_lines(spark, [object_uri(cfg, o.key) for o in objects]).select(
        "source_file", F.lit(None).cast("long").alias("source_line"), "split_start", "row_id", "text")
    return _attach_versions(spark, cfg, lines, objects)


def read_documents(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    """Whole-file JSON documents: an array becomes one record per element (numbered), an object one record."""
    if not objects:
        return spark.createDataFrame([], RAW_RECORD_SCHEMA)
    docs = spark.read.text([object_uri(cfg, o.key) for o in objects], wholetext=True).select(
        F.input_file_name().alias("source_file"), F.col("value").alias("text"))
    unsplit = [F.lit(None).cast("long").alias("split_start"), F.lit(None).cast("long").alias("row_id")]
    is_array = F.ltrim("text").startswith("[")
    elements = F.from_json("text", T.ArrayType(T.StringType()))
    arrays = docs.where(is_array & elements.isNotNull()).select(
        "source_file", F.posexplode(elements).alias("pos", "text")
    ).select("source_file", (F.col("pos") + 1).cast("long").alias("source_line"), *unsplit, "text")
    # Objects, and arrays that do not parse (quarantined downstream as one malformed record)
    singles = docs.where(~is_array | elements.isNull()).select(
        "source_file", F.lit(1).cast("long").alias("source_line"), *unsplit, "text")
    return _attach_versions(spark, cfg, arrays.unionByName(singles), objects)


def _named_gzip(obj: RawObject) -> bool:
    return obj.key.endswith(".gz")


def read_misnamed(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    """Objects whose name and content disagree about gzip, read here by content: Hadoop picks its codec by
    the name, so it would leave a gzip object not named *.gz compressed and fail on a plain one named *.gz."""
    s3 = aws.client(cfg, "s3")
    rows = []
    for obj in objects:
        uri = object_uri(cfg, obj.key)
        data = s3.get_object(Bucket=cfg.s3.bucket, Key=obj.key)["Body"].read()
        if obj.gzip:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as err:
                raise UnreadableFileError(f"{uri}: not a readable gzip stream: {err}") from None
        text = data.decode("utf-8", errors="replace")
        if obj.fmt == "document":
            rows.append((uri, obj.content_version, 1, None, None, text))
        else:
            rows += [(uri, obj.content_version, n, None, None, line)
                     for n, line in enumerate(text.splitlines(), 1)]
    return spark.createDataFrame(rows, RAW_RECORD_SCHEMA)


def read_records(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    by_spark = [o for o in objects if o.gzip == _named_gzip(o)]
    misnamed = [o for o in objects if o.gzip != _named_gzip(o)]
    parts = [
        read_ndjson(spark, cfg, [o for o in by_spark if o.fmt == "ndjson"]),
        read_documents(spark, cfg, [o for o in by_spark if o.fmt == "document"]),
    ]
    if misnamed:
        parts.append(read_misnamed(spark, cfg, misnamed))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out
