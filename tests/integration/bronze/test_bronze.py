"""Bronze on real Synthea exports and official R4 examples, through the embedded stack (no mocks)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys

import pytest

from fhirpulse.stack.landing import upload_tree
from spark_jobs.bronze.job import run_bronze
from spark_jobs.bronze.ledger import COMMITTED, PENDING, Ledger
from spark_jobs.bronze.resource_types import R4_RESOURCE_TYPES
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.tables import bronze_table, quarantine_table, resource_table, resource_table_name
from tests.integration.bronze.raw_fhir import expected_for

pytestmark = pytest.mark.integration
SAMPLE_DIRS = ["synthea-bulk-10-patients", "synthea-bulk-100-patients", "synthea-bundles", "r4-examples"]


def _session(lake_spark):
    return lambda: lake_spark


def _ledger_by_key(cfg) -> dict[str, dict]:
    return {item["object_key"]: item for item in Ledger(cfg).items()}


def _bronze_counts(spark, cfg, prefix: str) -> dict[str, tuple[int, int]]:
    """Per table: rows and distinct ids among rows that came from files under `prefix`."""
    from pyspark.sql import functions as F

    out = {}
    for table_dir in hudi_tables(spark, cfg):
        df = hudi.read(spark, cfg, bronze_table(table_dir))
        if "id" not in df.columns:
            continue
        mine = df.where(F.col("source_file").startswith(f"s3://{cfg.s3.bucket}/{prefix}"))
        rows, ids = mine.agg(F.count("*"), F.countDistinct("id")).first()
        if rows:
            out[table_dir] = (rows, ids)
    return out


def hudi_tables(spark, cfg) -> list[str]:
    """Names of bronze's Hudi tables (the audit table beside them is plain JSON)."""
    return [path.rsplit("/", 1)[-1] for path in timeline.layer_table_paths(spark, cfg, "bronze")]


@pytest.fixture(scope="module")
def synthea_run(cfg, lake_spark, samples):
    keys = {}
    for name in SAMPLE_DIRS:
        for key in upload_tree(cfg, samples / name, f"samples/{name}"):
            keys[key] = samples / name / key.rsplit("/", 1)[1]
    audit = run_bronze(cfg, _session(lake_spark))
    return keys, audit


def test_every_record_of_every_file_is_in_bronze_or_quarantine(cfg, synthea_run):
    keys, audit = synthea_run
    assert audit.status == "SUCCEEDED" and audit.files == len(keys)
    ledger = _ledger_by_key(cfg)
    total_records = 0
    for key, local in keys.items():
        expected = expected_for(local, R4_RESOURCE_TYPES)
        item = ledger[key]
        assert item["status"] == COMMITTED, key
        assert (item["records"], item["bronze_rows"], item["quarantined"]) == (
            expected.records, expected.accepted_count, expected.quarantined), key
        assert set(item["hudi_commits"]) >= {resource_table_name(t) for t in expected.accepted}, key
        total_records += expected.records
    assert audit.records_in == total_records == audit.rows_out + audit.quarantined
    # Synthea's export log is not FHIR: each of its lines is quarantined, none is lost.
    log = ledger[f"{cfg.s3.raw_prefix}/samples/synthea-bulk-10-patients/log.ndjson"]
    assert (log["records"], log["quarantined"]) == (4, 4)


def test_bronze_tables_hold_each_resource_once(cfg, lake_spark, synthea_run, samples):
    keys, _ = synthea_run
    expected_ids: dict[str, set[str]] = {}
    for local in keys.values():
        for rtype, ids in expected_for(local, R4_RESOURCE_TYPES).accepted.items():
            expected_ids.setdefault(resource_table_name(rtype), set()).update(ids)
    counts = _bronze_counts(lake_spark, cfg, f"{cfg.s3.raw_prefix}/samples/")
    assert {t: len(ids) for t, ids in expected_ids.items()} == {t: ids for t, (rows, ids) in counts.items()}
    assert all(rows == ids for rows, ids in counts.values())


def test_trino_reads_the_bronze_tables(cfg, synthea_run, trino_cursor_factory, samples):
    cur = trino_cursor_factory(cfg.glue.bronze_database)
    cur.execute("SELECT count(*), count(DISTINCT id), count(patient_id) FROM patient "
                f"WHERE source_file LIKE 's3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/samples/synthea-bulk-10-patients/%'")
    assert cur.fetchall() == [[13, 13, 13]]
    cur.execute("SELECT resource_type, count(*) FROM encounter GROUP BY resource_type")
    (rtype, n), = cur.fetchall()
    assert rtype == "Encounter" and n >= 1215
    cur.execute("SELECT json_extract_scalar(raw_json, '$.subject.reference') FROM condition LIMIT 1")
    assert cur.fetchall()[0][0]


def test_rerun_on_the_same_files_changes_nothing(cfg, lake_spark, synthea_run):
    tables = [resource_table("Patient"), resource_table("Encounter"), quarantine_table(cfg)]
    timelines = [timeline.completed_commits(cfg, t) for t in tables]
    ledger_before = Ledger(cfg).items()
    counts_before = _bronze_counts(lake_spark, cfg, f"{cfg.s3.raw_prefix}/")
    audit = run_bronze(cfg, _session(lake_spark))
    assert audit.status == "NOTHING_NEW" and audit.files == 0
    assert [timeline.completed_commits(cfg, t) for t in tables] == timelines
    assert Ledger(cfg).items() == ledger_before
    assert _bronze_counts(lake_spark, cfg, f"{cfg.s3.raw_prefix}/") == counts_before


def test_reuploaded_file_with_new_content_is_ingested_again(cfg, lake_spark, synthea_run, tmp_path):
    patient = {"resourceType": "Patient", "id": "reupload-1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
               "gender": "female"}
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(patient) + "\n")
    key, = upload_tree(cfg, path, "reupload")
    run_bronze(cfg, _session(lake_spark))
    patient |= {"gender": "male", "meta": {"lastUpdated": "2024-02-01T00:00:00Z"}}
    path.write_text(json.dumps(patient) + "\n")
    upload_tree(cfg, path, "reupload")
    audit = run_bronze(cfg, _session(lake_spark))
    assert audit.files == 1 and audit.rows_out == 1
    versions = [i for i in Ledger(cfg).items() if i["object_key"] == key]
    assert len(versions) == 2 and {v["status"] for v in versions} == {COMMITTED}
    row = (hudi.read(lake_spark, cfg, resource_table("Patient"))
           .where("id = 'reupload-1'").collect())
    assert len(row) == 1 and json.loads(row[0].raw_json)["gender"] == "male"


BAD_LINES = {
    "malformed JSON": '{"resourceType": "Patient", "id": "x1",',
    "not a JSON object": '["Patient", "x2"]',
    "missing resourceType": '{"id": "x3"}',
    "not an R4 resource type: Spaceship": '{"resourceType": "Spaceship", "id": "x4"}',
    "missing id": '{"resourceType": "Patient", "gender": "male"}',
}


def test_each_kind_of_bad_record_lands_in_quarantine_with_its_reason(cfg, lake_spark, tmp_path):
    from pyspark.sql import functions as F

    good = '{"resourceType": "Immunization", "id": "imm-ok", "patient": {"reference": "Patient/p-1"}}'
    oversized = json.dumps({"resourceType": "Patient", "id": "big", "text": "x" * (cfg.bronze.max_record_bytes)})
    lines = [good.encode(), *(v.encode() for v in BAD_LINES.values()), oversized.encode(),
             b'{"resourceType": "Patient", "id": "bad-utf8", "name": [{"family": "M\xfcller"}]}', b""]
    path = tmp_path / "bad-records.ndjson"
    path.write_bytes(b"\n".join(lines))
    gz = tmp_path / "more.ndjson.gz"
    gz.write_bytes(gzip.compress(b"\n".join(lines[:3])))
    not_gz = tmp_path / "plain-text.ndjson.gz"  # content decides, not the name
    not_gz.write_bytes(b"\n".join(lines[:3]).replace(b"imm-ok", b"imm-plain"))
    keys = upload_tree(cfg, path, "bad") + upload_tree(cfg, gz, "bad") + upload_tree(cfg, not_gz, "bad")
    audit = run_bronze(cfg, _session(lake_spark))
    assert audit.status == "SUCCEEDED" and audit.files == 3

    q = (hudi.read(lake_spark, cfg, quarantine_table(cfg))
         .where(F.col("source_file") == f"s3://{cfg.s3.bucket}/{keys[0]}")
         .select("source_line", "reason", "raw_text").collect())
    reasons = {r.source_line: r.reason for r in q}
    assert reasons == {
        2: "malformed JSON", 3: "not a JSON object", 4: "missing resourceType",
        5: "not an R4 resource type: Spaceship", 6: "missing id",
        7: f"oversized record (more than {cfg.bronze.max_record_bytes} bytes)", 8: "invalid UTF-8 byte sequence",
    }
    assert {r.source_line: r.raw_text for r in q}[3] == BAD_LINES["not a JSON object"]
    ledger = _ledger_by_key(cfg)
    assert (ledger[keys[0]]["records"], ledger[keys[0]]["bronze_rows"], ledger[keys[0]]["quarantined"]) == (8, 1, 7)
    for key in keys[1:]:
        assert (ledger[key]["records"], ledger[key]["bronze_rows"], ledger[key]["quarantined"]) == (3, 1, 2), key
    imm = hudi.read(lake_spark, cfg, resource_table("Immunization")).where("id IN ('imm-ok', 'imm-plain')")
    assert sorted((r.id, r.patient_id) for r in imm.collect()) == [("imm-ok", "p-1"), ("imm-plain", "p-1")]


def _run_bronze_process(crash_at: str) -> subprocess.CompletedProcess:
    env = dict(os.environ) | {"FHIRPULSE_CRASH_AT": crash_at}
    return subprocess.run([sys.executable, "-m", "fhirpulse.cli", "run", "bronze"], env=env,
                          capture_output=True, text=True, timeout=600)


# Before any write and after the commit; every other point (and a kill mid-write) is in
# tests/reliability/test_faults.py (`make test-all`).
@pytest.mark.parametrize("crash_at", ["bronze_after_claim", "bronze_after_commit"])
def test_killed_run_recovers_without_loss_or_duplicate(cfg, lake_spark, tmp_path, crash_at):
    from pyspark.sql import functions as F

    sub = "crash-" + crash_at.replace("_", "-")  # FHIR ids allow no underscore
    patients = [{"resourceType": "Patient", "id": f"{sub}-p{i}", "meta": {"lastUpdated": "2024-03-01T00:00:00Z"}}
                for i in range(5)]
    conditions = [{"resourceType": "Condition", "id": f"{sub}-c{i}", "subject": {"reference": f"Patient/{sub}-p{i}"}}
                  for i in range(5)]
    (tmp_path / "Patient.ndjson").write_text("\n".join(map(json.dumps, patients)))
    (tmp_path / "Condition.ndjson").write_text("\n".join(map(json.dumps, conditions)) + "\nnot json\n")
    keys = upload_tree(cfg, tmp_path, sub)

    killed = _run_bronze_process(crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    ledger = _ledger_by_key(cfg)
    assert {ledger[k]["status"] for k in keys} == {PENDING}

    recovered = run_bronze(cfg, _session(lake_spark))  # the next run (here, on the warm session) recovers
    assert recovered.status == "SUCCEEDED", recovered
    ledger = _ledger_by_key(cfg)
    assert {ledger[k]["status"] for k in keys} == {COMMITTED}
    assert sum(ledger[k]["records"] for k in keys) == 11
    assert sum(ledger[k]["bronze_rows"] for k in keys) == 10
    for rtype, n in (("Patient", 5), ("Condition", 5)):
        df = hudi.read(lake_spark, cfg, resource_table(rtype)).where(
            F.col("id").startswith(sub))
        assert df.count() == n and df.select("id").distinct().count() == n
    q = hudi.read(lake_spark, cfg, quarantine_table(cfg)).where(
        F.col("source_file").contains(sub))
    assert q.count() == 1


def test_patient_view_definition_runs_over_the_bronze_patient_table(cfg, lake_spark, synthea_run, samples):
    """SQL-on-FHIR: config/views/patient.json over bronze.patient built from the Synthea sample."""
    from pyspark.sql import functions as F

    from fhirpulse.core.config import REPO_ROOT
    from spark_jobs.sof import run_view

    source = f"s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/samples/synthea-bulk-10-patients/Patient.000.ndjson"
    bronze = hudi.read(lake_spark, cfg, resource_table("Patient")).where(F.col("source_file") == source)
    rows = {r.id: r.asDict() for r in run_view(bronze, REPO_ROOT / "config" / "views" / "patient.json").collect()}

    raw = [json.loads(line) for line in (samples / "synthea-bulk-10-patients" / "Patient.000.ndjson").open()]
    assert len(raw) == 13 and set(rows) == {p["id"] for p in raw}
    for patient in raw:
        row = rows[patient["id"]]
        assert (row["gender"], row["birth_date"]) == (patient["gender"], patient["birthDate"])
        assert row["deceased"] == ("deceasedDateTime" in patient)
        assert row["city"] == patient["address"][0]["city"]


def test_an_unreadable_file_fails_the_run_naming_it(cfg, lake_spark, tmp_path):
    from fhirpulse.core import aws
    from spark_jobs.lake.audit import read_audit
    from spark_jobs.lake.lifecycle import JobError

    broken = tmp_path / "broken.ndjson.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 64)  # a gzip header, then garbage
    key, = upload_tree(cfg, broken, "unreadable")
    try:
        with pytest.raises(JobError, match=f"{key}.*not a readable gzip stream"):
            run_bronze(cfg, _session(lake_spark))
        item = _ledger_by_key(cfg)[key]
        assert item["status"] == "FAILED" and "not a readable gzip stream" in item["error"]
        audit = read_audit(lake_spark, cfg, "bronze").where("status = 'FAILED'").collect()
        assert any(key in (row.error or "") for row in audit)
    finally:  # later tests ingest everything under the raw prefix
        aws.client(cfg, "s3").delete_object(Bucket=cfg.s3.bucket, Key=key)
