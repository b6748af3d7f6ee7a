"""Bronze record classification on tiny in-memory frames."""

from __future__ import annotations

import json

from chispa import assert_df_equality
from pyspark.sql import functions as F

from spark_jobs.bronze import records

MAX_BYTES = 2_000


def _frame(spark, texts: list[str]):
    rows = [("s3://b/raw/f.ndjson", "etag:1", i, None, None, t) for i, t in enumerate(texts, 1)]
    return spark.createDataFrame(rows, records.RAW_RECORD_SCHEMA)


def _number(classified):
    return records.number_lines(classified, records.line_offsets(classified))


def _classify(spark, texts):
    """Texts with known line numbers -> numbered records, as the job sees them."""
    return _number(records.unpack_and_classify(
        _frame(spark, texts), "run-1", F.lit("2024-01-01 00:00:00").cast("timestamp"), MAX_BYTES))


REASON_CASES = [
    ('{"resourceType": "Patient", "id": "p1"', "malformed JSON"),
    ('[{"resourceType": "Patient", "id": "p1"}]', "not a JSON object"),
    ('"just a string"', "not a JSON object"),
    ('{"id": "p1"}', "missing resourceType"),
    ('{"resourceType": "", "id": "p1"}', "missing resourceType"),
    ('{"resourceType": "Spaceship", "id": "p1"}', "not an R4 resource type: Spaceship"),
    ('{"resourceType": "SubscriptionTopic", "id": "p1"}', "not an R4 resource type: SubscriptionTopic"),
    ('{"resourceType": "Patient"}', "missing id"),
    ('{"resourceType": "Patient", "id": "has space"}', "invalid id: has space"),
    (json.dumps({"resourceType": "Patient", "id": "big", "text": "x" * MAX_BYTES}),
     f"oversized record (more than {MAX_BYTES} bytes)"),
    ('{"resourceType": "Patient", "id": "a"}{"resourceType": "Patient", "id": "b"}', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"} {"resourceType": "Patient", "id": "b"}', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"} trailing words', records.TRAILING_DATA),
    # a stray closing bracket: an array wrapper would close on it and hide what follows
    ('{"resourceType": "Patient", "id": "a"}]', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"}}', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"}], {"resourceType": "Patient", "id": "b"}', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": "a"},"x":1', records.TRAILING_DATA),
    ('{"resourceType": "Patient", "id": 12345}', "id is not a JSON string"),
    ('{"resourceType": "Patient", "id": 1.5e3}', "id is not a JSON string"),
    ('{"resourceType": "Patient", "id": true}', "id is not a JSON string"),
    ('{"resourceType": 7, "id": "p1"}', "resourceType is not a JSON string"),
    ('{"resourceType": "Patient", "id": ["p1"]}', 'invalid id: ["p1"]'),
    # strings that look like the screens' patterns are fine: a numeric-looking string id, `}{` inside text
    ('{"resourceType": "Patient", "id": "12345", "text": {"div": "a } { b }{"}}', None),
    ('{"resourceType": "Patient", "id": "true"}  \t', None),
    ('{"resourceType": "Immunization", "id": "i1"}', None),
    ('{"resourceType": "Patient", "id": "ok", "name": [{"family": "\ufffd"}]}', None),  # a genuine U+FFFD
]


def test_quarantine_reasons(spark):
    # One frame for all cases: a Spark job each would make the test slow, not stricter.
    out = _classify(spark, [text for text, _ in REASON_CASES]).select("source_line", "quarantine_reason")
    got = {r.source_line: r.quarantine_reason for r in out.collect()}
    assert got == {i: reason for i, (_, reason) in enumerate(REASON_CASES, 1)}


def test_invalid_utf8_bytes_are_quarantined(spark):
    # cast(binary as string) keeps raw bytes, as Spark's text reader does for a non-UTF-8 line
    raw = b'{"resourceType": "Patient", "id": "p1", "x": "M' + b"\xfc" + b'ller"}'
    frame = spark.createDataFrame(
        [("f", "v", 1, None, None, bytearray(raw))],
        "source_file string, content_version string, source_line long, split_start long, row_id long, text binary")
    frame = frame.withColumn("text", F.col("text").cast("string"))
    out = records.unpack_and_classify(frame, "r", F.current_timestamp(), MAX_BYTES).collect()
    assert [r.quarantine_reason for r in out] == ["invalid UTF-8 byte sequence"]


def test_bronze_columns_and_patient_reference(spark):
    texts = [
        '{"resourceType": "Patient", "id": "p1", "meta": {"lastUpdated": "2024-05-01T10:00:00Z"}}',
        '{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}',
        '{"resourceType": "Immunization", "id": "i1", "patient": {"reference": "urn:uuid:p2"}}',
        '{"resourceType": "Coverage", "id": "cov", "beneficiary": {"reference": "https://x.org/fhir/Patient/p3"}}',
        '{"resourceType": "Organization", "id": "o1"}',
        '{"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Group/g1"}}',
    ]
    out = records.bronze_rows(_classify(spark, texts)).select("id", "resource_type", "patient_id", "source_line")
    expected = spark.createDataFrame(
        [("p1", "Patient", "p1", 1), ("c1", "Condition", "p1", 2), ("i1", "Immunization", "p2", 3),
         ("cov", "Coverage", "p3", 4), ("o1", "Organization", None, 5), ("e1", "Encounter", None, 6)],
        "id string, resource_type string, patient_id string, source_line int")
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_precombine_uses_last_updated_else_ingestion_time(spark):
    texts = ['{"resourceType": "Patient", "id": "a", "meta": {"lastUpdated": "2024-05-01T10:00:00Z"}}',
             '{"resourceType": "Patient", "id": "b"}']
    rows = {r.id: r.precombine_ts for r in _classify(spark, texts).collect()}
    assert rows == {"a": 1714557600000000, "b": 1704067200000000}


def test_bundles_are_unpacked_with_entry_numbers(spark):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"request": {"method": "DELETE", "url": "Patient/old"}},
        {"resource": {"resourceType": "Observation", "id": "o1", "subject": {"reference": "urn:uuid:p1"}}},
    ]}
    document = {"resourceType": "Bundle", "id": "doc", "type": "document", "entry": [
        {"resource": {"resourceType": "Composition", "id": "c"}}]}
    empty = {"resourceType": "Bundle", "id": "empty", "type": "searchset", "entry": []}
    out = _classify(spark, [json.dumps(bundle), json.dumps(document), json.dumps(empty)]).select(
        "id", "resource_type", "source_line", "source_entry", "patient_id", "quarantine_reason")
    expected = spark.createDataFrame(
        [("p1", "Patient", 1, 1, "p1", None), (None, None, 1, 2, None, "bundle entry without a resource"),
         ("o1", "Observation", 1, 3, "p1", None), ("doc", "Bundle", 2, None, None, None),
         ("empty", "Bundle", 3, None, None, None)],
        "id string, resource_type string, source_line int, source_entry int, patient_id string, "
        "quarantine_reason string")
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_bundle_the_envelope_cannot_read_is_quarantined_whole(spark):
    # `meta` is not an object: Spark still reads the entries, but the line as a whole is malformed.
    bundle = {"resourceType": "Bundle", "meta": 5, "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}}]}
    rows = [(r.source_entry, r.quarantine_reason) for r in _classify(spark, [json.dumps(bundle)]).collect()]
    assert rows == [(None, "malformed JSON")]


def test_a_bundle_line_with_a_second_object_after_it_is_quarantined_whole(spark):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}}]}
    line = json.dumps(bundle) + json.dumps({"resourceType": "Patient", "id": "p2"})
    rows = [(r.source_entry, r.quarantine_reason) for r in _classify(spark, [line]).collect()]
    assert rows == [(None, records.TRAILING_DATA)]


def test_raw_json_is_kept_verbatim(spark):
    text = '{"resourceType":"Patient","id":"p1","_birthDate":{"extension":[{"url":"u","valueString":"x"}]}}'
    (row,) = records.bronze_rows(_classify(spark, [text])).collect()
    assert row.raw_json == text


def test_per_file_counts_reconcile(spark):
    texts = ['{"resourceType": "Patient", "id": "p1"}', "nope", '{"resourceType": "Patient"}']
    rows = {r.resource_type: (r.records, r.bronze_rows, r.quarantined)
            for r in records.per_file_counts(_classify(spark, texts)).collect()}
    assert rows == {"Patient": (2, 1, 1), None: (1, 0, 1)}


def test_lines_are_numbered_across_splits_and_blank_lines_are_not_records(spark):
    # Two files; b.ndjson read in two splits whose rows have consecutive ids (as in one Spark partition each),
    # with blank lines that must still count for the numbering. a.ndjson was read in one split.
    ok = '{{"resourceType": "Patient", "id": "{}"}}'
    rows = [
        ("b", 0, 100, ok.format("b1")), ("b", 0, 101, "   "), ("b", 0, 102, ok.format("b3")), ("b", 0, 103, ""),
        ("b", 500, 7, ok.format("b5")), ("b", 500, 8, "nope"),
        ("a", 0, 40, ""), ("a", 0, 41, ok.format("a2")),
    ]
    frame = spark.createDataFrame([(f, "v", None, split, row_id, text) for f, split, row_id, text in rows],
                                  records.RAW_RECORD_SCHEMA)
    out = _number(records.unpack_and_classify(frame, "r", F.current_timestamp(), MAX_BYTES)).select(
        "source_file", "source_line", "id", "quarantine_reason")
    expected = spark.createDataFrame(
        [("b", 1, "b1", None), ("b", 3, "b3", None), ("b", 5, "b5", None), ("b", 6, None, "not a JSON object"),
         ("a", 2, "a2", None)],
        "source_file string, source_line int, id string, quarantine_reason string")
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)
