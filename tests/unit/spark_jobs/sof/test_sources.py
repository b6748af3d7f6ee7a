"""Bronze-shaped inputs: NDJSON files/folders and in-memory resources."""

from __future__ import annotations

import json

import pytest

from spark_jobs.sof.sources import frame_from_resources, ndjson_files, read_ndjson


def test_ndjson_files_prefers_the_resource_types_files(tmp_path):
    for name in ("Patient.000.ndjson", "Patient.001.ndjson", "Encounter.000.ndjson", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in ndjson_files(tmp_path, "Patient")] == ["Patient.000.ndjson", "Patient.001.ndjson"]
    assert len(ndjson_files(tmp_path)) == 3
    assert len(ndjson_files(tmp_path, "Observation")) == 3  # no typed files: read them all
    with pytest.raises(FileNotFoundError):
        ndjson_files(tmp_path / "missing")


def test_read_ndjson_gives_bronze_rows(spark, tmp_path):
    lines = [json.dumps({"resourceType": "Patient", "id": "a"}), "", json.dumps({"resourceType": "Encounter"})]
    (tmp_path / "mixed.ndjson").write_text("\n".join(lines) + "\n")
    rows = read_ndjson(spark, tmp_path).collect()
    assert [(r.resource_type, json.loads(r.raw_json).get("id")) for r in rows] == [("Patient", "a"), ("Encounter", None)]


def test_frame_from_resources(spark):
    frame = frame_from_resources(spark, [{"resourceType": "Patient", "id": "x", "text": "é'\""}])
    (row,) = frame.collect()
    assert frame.columns == ["resource_type", "raw_json"]
    assert row.resource_type == "Patient" and json.loads(row.raw_json)["text"] == "é'\""
