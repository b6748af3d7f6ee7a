"""Pure DataFrame -> DataFrame steps that turn raw text records into bronze rows or quarantine rows.

Input of `unpack_and_classify`: one row per raw record with `source_file`, `content_version`, `source_line`
(1-based line, or document number) and `text`. Bundles (any record whose resourceType is Bundle of an
unpacked type) become one record per entry (`source_entry`, 1-based). Every output row has either
`quarantine_reason` null (a bronze row) or a reason, so `records in = bronze + quarantined` holds per file.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.bronze.resource_types import (
    PATIENT_REFERENCE_ELEMENT,
    R4_RESOURCE_TYPES,
    UNPACKED_BUNDLE_TYPES,
)

CORRUPT = "_corrupt_record"
_REFERENCE = T.StructType([T.StructField("reference", T.StringType())])
# Only what bronze needs from each resource; the rest stays in the raw text, losslessly.
ENVELOPE_SCHEMA = T.StructType([
    T.StructField("resourceType", T.StringType()),
    T.StructField("id", T.StringType()),
    T.StructField("meta", T.StructType([T.StructField("lastUpdated", T.StringType())])),
    T.StructField("type", T.StringType()),  # Bundle.type (other types' `type` is unused)
    T.StructField("entry", T.ArrayType(T.StructType([
        T.StructField("fullUrl", T.StringType()),
        T.StructField("resource", T.StringType()),  # StringType keeps the entry's JSON text as is
    ]))),
    *[T.StructField(element, _REFERENCE) for element in sorted(set(PATIENT_REFERENCE_ELEMENT.values()))],
    T.StructField(CORRUPT, T.StringType()),
])
_JSON_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
FHIR_ID_PATTERN = r"^[A-Za-z0-9\-\.]{1,64}$"

BRONZE_COLUMNS = ["id", "resource_type", "last_updated", "patient_id", "raw_json", "source_file",
                  "content_version", "source_line", "source_entry", "run_id", "ingested_at", "precombine_ts"]
QUARANTINE_COLUMNS = ["source_file", "content_version", "source_line", "source_entry", "reason", "raw_text",
                      "resource_type", "resource_id", "run_id", "ingested_at"]


def _parse(df: DataFrame) -> DataFrame:
    return df.withColumn("env", F.from_json("text", ENVELOPE_SCHEMA, _JSON_OPTIONS))


def _is_unpacked_bundle(env: Column) -> Column:
    # An empty Bundle stays one record (a Bundle resource): exploding no entries would lose the line.
    return ((env["resourceType"] == "Bundle") & env["type"].isin(*UNPACKED_BUNDLE_TYPES)
            & (F.size(env["entry"]) > 0))


def unpack_bundles(records: DataFrame) -> DataFrame:
    """Replace each unpackable Bundle record by its entries; everything else passes through (parsed).

    The union also keeps each branch's parse in one projection: without it the optimizer inlines
    from_json into every use of `env` (measured 2.5x slower on 300k resources).
    """
    parsed = _parse(records.withColumn("source_entry", F.lit(None).cast("int")))
    bundles = parsed.where(_is_unpacked_bundle(parsed["env"]))
    others = parsed.where(~_is_unpacked_bundle(parsed["env"]) | parsed["env"].isNull())
    entries = (
        bundles.select("source_file", "content_version", "source_line",
                       F.posexplode_outer("env.entry").alias("pos", "entry"))
        .select(
            "source_file", "content_version", "source_line",
            (F.col("pos") + 1).cast("int").alias("source_entry"),
            # An entry without a resource (e.g. a DELETE request) is kept as its whole entry text
            F.coalesce(F.col("entry.resource"), F.to_json("entry")).alias("text"),
            F.col("entry.resource").isNull().alias("entry_without_resource"),
        )
    )
    entries = _parse(entries)
    return others.withColumn("entry_without_resource", F.lit(False)).unionByName(entries)


def _patient_id(env: Column) -> Column:
    """The patient's id: the resource's own id for Patient, else the id in its patient reference."""
    reference = F.coalesce(*[
        F.when(env["resourceType"] == resource_type, env[element]["reference"])
        for resource_type, element in PATIENT_REFERENCE_ELEMENT.items()
    ])
    referenced = F.regexp_extract(reference, r"^(?:.*/)?(?:Patient/|urn:uuid:)([^/|?]+)$", 1)
    return F.when(env["resourceType"] == "Patient", env["id"]).otherwise(F.nullif(referenced, F.lit("")))


def _has_invalid_utf8(text: Column) -> Column:
    """Spark keeps a line's raw bytes; re-encoding through a Java string replaces invalid sequences, so the
    bytes differ exactly when the input was not valid UTF-8 (a genuine U+FFFD round-trips unchanged)."""
    return F.encode(text, "UTF-8") != text.cast("binary")


def quarantine_reason(text: Column, env: Column, entry_without_resource: Column, max_bytes: int) -> Column:
    """The first reason a record cannot enter bronze, or null. Order matters: cheapest and surest first."""
    resource_type = env["resourceType"]
    return (
        F.when(entry_without_resource, F.lit("bundle entry without a resource"))
        .when(F.octet_length(text) > max_bytes, F.lit(f"oversized record (more than {max_bytes} bytes)"))
        .when(_has_invalid_utf8(text), F.lit("invalid UTF-8 byte sequence"))
        # the plain startswith first: ltrim copies the whole text, and almost every record starts with '{'
        .when(~(text.startswith("{") | F.ltrim(text).startswith("{")), F.lit("not a JSON object"))
        .when(env.isNull() | env[CORRUPT].isNotNull(), F.lit("malformed JSON"))
        .when(resource_type.isNull() | (resource_type == ""), F.lit("missing resourceType"))
        .when(~resource_type.isin(*sorted(R4_RESOURCE_TYPES)),
              F.concat(F.lit("not an R4 resource type: "), resource_type))
        .when(env["id"].isNull() | (env["id"] == ""), F.lit("missing id"))
        .when(~env["id"].rlike(FHIR_ID_PATTERN), F.concat(F.lit("invalid id: "), env["id"]))
    )


def unpack_and_classify(records: DataFrame, run_id: str, ingested_at: Column, max_record_bytes: int) -> DataFrame:
    """Raw records -> one row per resource with bronze columns and `quarantine_reason`."""
    rows = unpack_bundles(records)
    env = F.col("env")
    last_updated = F.to_timestamp(env["meta"]["lastUpdated"])
    return rows.select(
        env["id"].alias("id"),
        env["resourceType"].alias("resource_type"),
        last_updated.alias("last_updated"),
        _patient_id(env).alias("patient_id"),
        F.col("text").alias("raw_json"),
        "source_file", "content_version",
        F.col("source_line").cast("int").alias("source_line"),
        "source_entry",
        F.lit(run_id).alias("run_id"),
        ingested_at.alias("ingested_at"),
        # Newest meta.lastUpdated wins an upsert; a resource without one counts as changed at ingestion.
        (F.unix_micros(F.coalesce(last_updated, ingested_at))).alias("precombine_ts"),
        quarantine_reason(F.col("text"), env, F.col("entry_without_resource"), max_record_bytes)
        .alias("quarantine_reason"),
    )


def bronze_rows(classified: DataFrame) -> DataFrame:
    return classified.where(F.col("quarantine_reason").isNull()).select(*BRONZE_COLUMNS)


def quarantine_rows(classified: DataFrame) -> DataFrame:
    return classified.where(F.col("quarantine_reason").isNotNull()).select(
        "source_file", "content_version", "source_line",
        F.coalesce("source_entry", F.lit(0)).alias("source_entry"),
        F.col("quarantine_reason").alias("reason"),
        F.col("raw_json").alias("raw_text"),
        "resource_type", F.col("id").alias("resource_id"), "run_id", "ingested_at",
    )


def per_file_counts(classified: DataFrame) -> DataFrame:
    """records / bronze / quarantined per (file, version, resource type): the reconciliation the ledger and
    audit keep, and which tables each file feeds."""
    return classified.groupBy("source_file", "content_version", "resource_type").agg(
        F.count(F.lit(1)).alias("records"),
        F.count(F.when(F.col("quarantine_reason").isNull(), 1)).alias("bronze_rows"),
        F.count(F.when(F.col("quarantine_reason").isNotNull(), 1)).alias("quarantined"),
    )
