"""Find raw objects under the raw prefix and read them into raw text records.

Every object at any depth is a candidate, whatever its name; its format is sniffed from its first bytes:
NDJSON (plain or gzip) is read line by line with exact line numbers, a single JSON document (a Bundle, one
resource, or an array of resources) whole. Listing is paginated.
"""

from __future__ import annotations

import codecs
import gzip
import re
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
    encoding: str = "utf-8"  # another only when a byte order mark says so (set by sniff)

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
    cut = len(head) >= SNIFF_BYTES or len(text) >= SNIFF_BYTES
    encoding = bom_encoding(text)
    if encoding != "utf-8":
        text = text.decode(encoding, errors="replace").encode("utf-8")
    return RawObject(obj.key, obj.etag, obj.size, text_format(text, cut), is_gzip, encoding)


# Byte order marks of the encodings besides UTF-8 that JSON exporters write (UTF-32 first: its little-endian
# mark begins with UTF-16's).
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def bom_encoding(first_bytes: bytes) -> str:
    """The encoding a byte order mark declares ("utf-16", "utf-32"), else "utf-8" (with or without its mark:
    the JSON parser skips it)."""
    return next((name for bom, name in _BOMS if first_bytes.startswith(bom)), "utf-8")


def text_format(text: bytes, cut: bool) -> str:
    """"ndjson" or "document", from a file's first bytes (`cut`: the file goes on after them)."""
    first_line, newline, rest = text.removeprefix(codecs.BOM_UTF8).lstrip().partition(b"\n")
    first_line = first_line.strip()
    fmt = "ndjson"
    if not newline and cut:
        # The first line goes on past the sniffed bytes: an array on one line is a document; any other long
        # line is NDJSON (a pretty-printed document starts with a short line, and read as one document a
        # long NDJSON line would hide every line after it).
        fmt = "document" if first_line.startswith(b"[") else "ndjson"
    elif (first_line.startswith((b"{", b"[")) and not _closes_its_first_value(first_line)
          and not _is_ndjson_line(rest.lstrip().partition(b"\n")[0])):
        # A document spread over lines (a pretty-printed Bundle or array). A line that is not JSON at all, or
        # a broken first line followed by NDJSON lines, stays NDJSON: each bad line is quarantined with its
        # number and the good ones are read.
        fmt = "document"
    elif first_line.startswith(b"[") and not rest.strip() and not cut:
        # A whole file that is one JSON array on one line. An array line followed by more lines is NDJSON
        # with a bad first line: read as a document, the lines after the array would be lost.
        fmt = "document"
    return fmt


def _is_ndjson_line(line: bytes) -> bool:
    line = line.strip()
    return line.startswith(b"{") and line.endswith(b"}") and _closes_its_first_value(line)


def _closes_its_first_value(line: bytes) -> bool:
    """The line's first object or array closes on the line (more may follow it: two objects on one line are
    NDJSON with a bad line, not the start of a document). Brackets are counted outside strings, so any depth
    is fine; whether the JSON is valid is for classification to say."""
    depth, in_string, escaped = 0, False, False
    for byte in line:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
        elif byte in (0x7D, 0x5D):  # } ]
            depth -= 1
            if depth <= 0:
                return True
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


def read_ndjson_lines(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
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


def read_by_content(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    """Objects Spark's readers would misread, read here by content: those whose name and content disagree
    about gzip (Hadoop picks its codec by the name, so it would leave a gzip object not named *.gz compressed
    and fail on a plain one named *.gz), and text in UTF-16 or UTF-32 (Spark reads lines as UTF-8)."""
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
        if obj.encoding != "utf-8":
            data = data.decode(obj.encoding, errors="replace").encode("utf-8")
        # Bytes, not str: an invalid UTF-8 byte must reach classification as it is (and be quarantined for
        # it), as Spark's own text reader hands it over.
        if obj.fmt == "document":
            rows.append((uri, obj.content_version, 1, None, None, bytearray(data)))
        else:
            rows += [(uri, obj.content_version, n, None, None, bytearray(line))
                     for n, line in enumerate(split_lines(data), 1)]
    binary = T.StructType([f if f.name != "text" else T.StructField("text", T.BinaryType())
                           for f in RAW_RECORD_SCHEMA.fields])
    return spark.createDataFrame(rows, binary).withColumn("text", F.col("text").cast("string"))


def split_lines(data: bytes) -> list[bytes]:
    """Lines as Hadoop's line reader (Spark's text source) splits them: at LF, CR or CR LF, nowhere else
    (Python's splitlines would also split at U+2028 and other characters that JSON strings may hold)."""
    lines = re.split(rb"\r\n|\r|\n", data)
    return lines[:-1] if lines and lines[-1] == b"" else lines


def _spark_reads(obj: RawObject) -> bool:
    return obj.gzip == _named_gzip(obj) and obj.encoding == "utf-8"


def read_records(spark: SparkSession, cfg: Config, objects: list[RawObject]) -> DataFrame:
    by_spark = [o for o in objects if _spark_reads(o)]
    by_content = [o for o in objects if not _spark_reads(o)]
    parts = [
        read_ndjson_lines(spark, cfg, [o for o in by_spark if o.fmt == "ndjson"]),
        read_documents(spark, cfg, [o for o in by_spark if o.fmt == "document"]),
    ]
    if by_content:
        parts.append(read_by_content(spark, cfg, by_content))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out
