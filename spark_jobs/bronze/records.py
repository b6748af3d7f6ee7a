"""Pure DataFrame -> DataFrame steps that turn raw text records into bronze rows or quarantine rows.

Input of `unpack_and_classify` (RAW_RECORD_SCHEMA): one row per raw line or document with `source_file`,
`content_version`, `text` and its position: `source_line` (1-based) when the reader knows it, else the line's
split (`split_start`) and a row id consecutive within the split (`row_id`), which `number_lines` turns into
line numbers once the classified rows are cached. Each line is read and parsed exactly once: Bundles of an
unpacked type become one row per entry (`source_entry`, 1-based) through a generator, not a filter and a
union (a filter on the parsed envelope makes Spark re-parse the text for the filter and for every branch).
Every output row has either `quarantine_reason` null (a bronze row) or a reason, so
`records in = bronze + quarantined` holds per file.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.bronze.resource_types import (
    PATIENT_REFERENCE_ELEMENT,
    R4_RESOURCE_TYPES,
    UNPACKED_BUNDLE_TYPES,
)

RAW_RECORD_SCHEMA = T.StructType([
    T.StructField("source_file", T.StringType()),
    T.StructField("content_version", T.StringType()),
    T.StructField("source_line", T.LongType()),  # null: numbered later from split_start + row_id
    T.StructField("split_start", T.LongType()),
    T.StructField("row_id", T.LongType()),
    T.StructField("text", T.StringType()),
])
CORRUPT = "_corrupt_record"
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
    # Reference elements as JSON text, read by `_patient_id`: R4's Account.subject and Contract.subject are
    # arrays, and a struct field here would make those resources unreadable ("malformed JSON").
    *[T.StructField(element, T.StringType()) for element in sorted(set(PATIENT_REFERENCE_ELEMENT.values()))],
    T.StructField(CORRUPT, T.StringType()),
])
# Strict JSON: Spark's parser otherwise accepts 'single quotes' and NaN/Infinity, which no JSON reader after
# bronze (Trino's json functions, another Spark option set) has to.
_JSON_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, "allowSingleQuotes": "false",
                 "allowNonNumericNumbers": "false"}
# A Java regex (Spark `rlike`): `\z`, not `$`, which also matches before a final line terminator ("p1\n").
FHIR_ID_PATTERN = r"^[A-Za-z0-9\-\.]{1,64}\z"
TRAILING_DATA = "trailing data after the JSON object"

BRONZE_COLUMNS = ["id", "resource_type", "last_updated", "patient_id", "raw_json", "source_file",
                  "content_version", "source_line", "source_entry", "run_id", "ingested_at", "precombine_ts"]
# What `number_lines` gives: the classified rows of real records, each with its line number.
RECORD_COLUMNS = [*BRONZE_COLUMNS, "quarantine_reason"]


def _parse(text: Column) -> Column:
    return F.from_json(text, ENVELOPE_SCHEMA, _JSON_OPTIONS)


def _is_unpacked_bundle(env: Column) -> Column:
    # An empty Bundle stays one record (a Bundle resource): exploding no entries would lose the line.
    return ((env["resourceType"] == "Bundle") & env["type"].isin(*UNPACKED_BUNDLE_TYPES)
            & (F.size(env["entry"]) > 0))


def unpack_bundles(records: DataFrame) -> DataFrame:
    """One row per record: each unpackable Bundle becomes its entries, everything else passes through.

    Output: the position columns, `source_entry` (null unless an entry), `text`, `entry_without_resource`
    and `env` (the parsed envelope). Each text is parsed once: lines in the generator's input, entries after.
    """
    position = ["source_file", "content_version", "source_line", "split_start", "row_id"]
    parsed = records.select(*position, "text", _parse(F.col("text")).alias("env"))
    env = F.col("env")
    unparsed = F.lit(None).cast(ENVELOPE_SCHEMA)
    entries = F.transform(env["entry"], lambda entry, i: F.struct(
        (i + 1).cast("int").alias("source_entry"),
        # An entry without a resource (e.g. a DELETE request) is kept as its whole entry text
        F.coalesce(entry["resource"], F.to_json(entry)).alias("text"),
        entry["resource"].isNull().alias("entry_without_resource"),
        unparsed.alias("env"),
    ))
    itself = F.array(F.struct(F.lit(None).cast("int").alias("source_entry"), F.col("text"),
                              F.lit(False).alias("entry_without_resource"), env.alias("env")))
    # A Bundle line with an invalid UTF-8 byte, or one the envelope cannot read (`meta` not an object: Spark
    # keeps the fields it could read), stays whole, to be quarantined for it: unpacked, its readable entries
    # would enter bronze and the rest of the line would be dropped unreported.
    # The same for a Bundle line with more after it (a second object): only its first value would be read.
    unpack = (_is_unpacked_bundle(env) & env[CORRUPT].isNull() & ~_has_invalid_utf8(F.col("text"))
              & ~_has_trailing_data(F.col("text")))
    rows = parsed.select(*position, F.inline(F.when(unpack, entries).otherwise(itself)))
    return rows.withColumn("env", F.coalesce(env, _parse(F.col("text"))))


# Patient reference elements -> the resource types that keep it there (a hash-set lookup per element).
_TYPES_BY_REFERENCE_ELEMENT: dict[str, list[str]] = {
    element: sorted(t for t, e in PATIENT_REFERENCE_ELEMENT.items() if e == element)
    for element in sorted(set(PATIENT_REFERENCE_ELEMENT.values()))
}


def _patient_id(env: Column) -> Column:
    """The patient's id: the resource's own id for Patient, else the id in its patient reference."""
    reference = F.coalesce(*[
        F.when(env["resourceType"].isin(*types), F.get_json_object(env[element], "$.reference"))
        for element, types in _TYPES_BY_REFERENCE_ELEMENT.items()
    ])
    referenced = F.regexp_extract(reference, r"^(?:.*/)?(?:Patient/|urn:uuid:)([^/|?]+)$", 1)
    return F.when(env["resourceType"] == "Patient", env["id"]).otherwise(F.nullif(referenced, F.lit("")))


# The line goes in as the value of a wrapper object's first member, before a last member of its own: Jackson
# stops at the end of the first root value, so a wrapper that could close early (an array's `]` after the
# text) would hide whatever follows; this one reads back exactly its two keys only when the line is one
# whole JSON value. (A line ending in this very member, NUL-prefixed key included, is the one blind spot.)
_WRAP_OPEN, _WRAP_END_KEY = '{"v":', r"\u0000end"  # the key as JSON text: an escaped NUL
_WRAP_CLOSE = f',"{_WRAP_END_KEY}":0}}'


def _has_trailing_data(text: Column) -> Column:
    """True when the line holds more after its first JSON value (two objects on one line, `{..}, {..}`,
    a stray `]` or `}`, text): Spark's parser reads the first value and silently ignores the rest.
    (No cheaper screen works: `},` and `} ` occur inside nearly every FHIR object.)"""
    keys = F.json_object_keys(F.concat(F.lit(_WRAP_OPEN), text, F.lit(_WRAP_CLOSE)))
    return F.coalesce(F.size(keys) != 2, F.lit(True))


# A FHIR id or resourceType written as a JSON number or boolean reads as its text ('12345', 'true'); only
# those texts need the typed probe below, so the probe parses almost no line.
# ('"Infinity"' is how a number past a double's range reads.)
_SCALAR_TEXT = r'^(true|false|-?[0-9][0-9.eE+\-]*|"-?Infinity")\z'
_NUMBER_PROBE = T.StructType([T.StructField("resourceType", T.DoubleType()), T.StructField("id", T.DoubleType())])
_BOOLEAN_PROBE = T.StructType([T.StructField("resourceType", T.BooleanType()), T.StructField("id", T.BooleanType())])


def _not_a_json_string(text: Column, env: Column, element: str) -> Column:
    """True when the resource's `element` is a JSON number or boolean, not a string: FHIR JSON primitives
    have types, and Spark's parser would turn 12345 into a valid-looking id '12345'. (An object or array
    reads as JSON text, which no id pattern or resource type accepts.)"""
    typed = [F.from_json(text, probe, _JSON_OPTIONS)[element].isNotNull() for probe in (_NUMBER_PROBE,
                                                                                          _BOOLEAN_PROBE)]
    return F.coalesce(env[element].rlike(_SCALAR_TEXT) & (typed[0] | typed[1]), F.lit(False))


def _has_invalid_utf8(text: Column) -> Column:
    """Spark keeps a line's raw bytes; re-encoding through a Java string replaces invalid sequences, so the
    bytes differ exactly when the input was not valid UTF-8 (a genuine U+FFFD round-trips unchanged)."""
    return F.encode(text, "UTF-8") != text.cast("binary")


def quarantine_reason(text: Column, env: Column, entry_without_resource: Column, is_entry: Column,
                      max_bytes: int) -> Column:
    """The first reason a record cannot enter bronze, or null. Order matters: cheapest and surest first.
    `is_entry`: an unpacked Bundle entry, whose text Spark wrote back from one parsed value (so it cannot
    hold trailing data, and is not parsed again to check)."""
    resource_type = env["resourceType"]
    return (
        F.when(entry_without_resource, F.lit("bundle entry without a resource"))
        .when(F.octet_length(text) > max_bytes, F.lit(f"oversized record (more than {max_bytes} bytes)"))
        .when(_has_invalid_utf8(text), F.lit("invalid UTF-8 byte sequence"))
        # the plain startswith first: almost every record starts with '{'. Then JSON's own whitespace (RFC 8259:
        # space, tab, CR, LF; ltrim would only drop spaces); an anchored Java regex stops at the first other char.
        .when(~(text.startswith("{") | text.rlike(r"^[ \t\r\n]*\{")), F.lit("not a JSON object"))
        .when(env.isNull() | env[CORRUPT].isNotNull(), F.lit("malformed JSON"))
        .when(~is_entry & _has_trailing_data(text), F.lit(TRAILING_DATA))
        .when(resource_type.isNull() | (resource_type == ""), F.lit("missing resourceType"))
        .when(_not_a_json_string(text, env, "resourceType"), F.lit("resourceType is not a JSON string"))
        .when(~resource_type.isin(*sorted(R4_RESOURCE_TYPES)),
              F.concat(F.lit("not an R4 resource type: "), resource_type))
        .when(env["id"].isNull() | (env["id"] == ""), F.lit("missing id"))
        .when(_not_a_json_string(text, env, "id"), F.lit("id is not a JSON string"))
        .when(~env["id"].rlike(FHIR_ID_PATTERN), F.concat(F.lit("invalid id: "), env["id"]))
    )


def _is_blank_line(text: Column, source_entry: Column) -> Column:
    # Blank lines (spaces, tabs, a CR) count for line numbers but are not records. Almost every line starts
    # with '{', which spares the regex; `\z`, as `$` would also match before a final U+0085 or U+2028.
    return source_entry.isNull() & ~text.startswith("{") & text.rlike(r"^\s*\z")


def unpack_and_classify(records: DataFrame, run_id: str, ingested_at: Column, max_record_bytes: int) -> DataFrame:
    """Raw records -> one row per resource with bronze columns, `quarantine_reason` and what
    `number_lines` needs (`split_start`, `row_id`, `blank_line`)."""
    rows = unpack_bundles(records)
    env = F.col("env")
    last_updated = F.to_timestamp(env["meta"]["lastUpdated"])
    return rows.select(
        env["id"].alias("id"),
        env["resourceType"].alias("resource_type"),
        last_updated.alias("last_updated"),
        _patient_id(env).alias("patient_id"),
        F.col("text").alias("raw_json"),
        "source_file", "content_version", "source_line", "split_start", "row_id", "source_entry",
        _is_blank_line(F.col("text"), F.col("source_entry")).alias("blank_line"),
        F.lit(run_id).alias("run_id"),
        ingested_at.alias("ingested_at"),
        # Newest meta.lastUpdated wins an upsert; a resource without one counts as changed at ingestion.
        (F.unix_micros(F.coalesce(last_updated, ingested_at))).alias("precombine_ts"),
        quarantine_reason(F.col("text"), env, F.col("entry_without_resource"), F.col("source_entry").isNotNull(),
                          max_record_bytes)
        .alias("quarantine_reason"),
    )


def line_offsets(classified: DataFrame) -> DataFrame:
    """Per (file, split): its first row id and the number of lines in the file's earlier splits.

    A split's rows sit in one partition in file order with consecutive row ids, and blank lines are still
    there, so max - min + 1 is the split's line count. Small: one row per split.
    """
    splits = classified.where(F.col("split_start").isNotNull()).groupBy("source_file", "split_start").agg(
        F.min("row_id").alias("first_row_id"), (F.max("row_id") - F.min("row_id") + 1).alias("split_lines"))
    earlier = Window.partitionBy("source_file").orderBy("split_start").rowsBetween(Window.unboundedPreceding, -1)
    return splits.select("source_file", "split_start", "first_row_id",
                         F.coalesce(F.sum("split_lines").over(earlier), F.lit(0)).alias("lines_before"))


def number_lines(classified: DataFrame, offsets: DataFrame) -> DataFrame:
    """The classified rows of real records (blank lines dropped), each with its 1-based `source_line`."""
    joined = classified.where(~F.col("blank_line")).join(F.broadcast(offsets), ["source_file", "split_start"],
                                                         "left")
    counted = F.col("lines_before") + F.col("row_id") - F.col("first_row_id") + 1
    return joined.select(*[
        F.coalesce("source_line", counted).cast("int").alias("source_line") if column == "source_line"
        else column for column in RECORD_COLUMNS
    ])


def bronze_rows(numbered: DataFrame) -> DataFrame:
    return numbered.where(F.col("quarantine_reason").isNull()).select(*BRONZE_COLUMNS)


def quarantine_rows(numbered: DataFrame) -> DataFrame:
    return numbered.where(F.col("quarantine_reason").isNotNull()).select(
        "source_file", "content_version", "source_line",
        F.coalesce("source_entry", F.lit(0)).alias("source_entry"),
        F.col("quarantine_reason").alias("reason"),
        F.col("raw_json").alias("raw_text"),
        "resource_type", F.col("id").alias("resource_id"), "run_id", "ingested_at",
    )


def per_file_counts(numbered: DataFrame) -> DataFrame:
    """records / bronze / quarantined per (file, version, resource type): the reconciliation the ledger and
    audit keep, and which tables each file feeds."""
    return numbered.groupBy("source_file", "content_version", "resource_type").agg(
        F.count(F.lit(1)).alias("records"),
        F.count(F.when(F.col("quarantine_reason").isNull(), 1)).alias("bronze_rows"),
        F.count(F.when(F.col("quarantine_reason").isNotNull(), 1)).alias("quarantined"),
    )
