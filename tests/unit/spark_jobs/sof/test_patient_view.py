"""config/views/patient.json over the real Synthea sample, checked against plain-Python extraction."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from fhirpulse.core.config import REPO_ROOT
from spark_jobs.sof import compile_view
from spark_jobs.sof.sources import read_ndjson

VIEW = REPO_ROOT / "config" / "views" / "patient.json"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
GEO = "http://hl7.org/fhir/StructureDefinition/geolocation"


def _first(items):
    return items[0] if items else None


def _ext(element: dict, url: str) -> list[dict]:
    return [e for e in element.get("extension", []) if e.get("url") == url]


def _geo(address: dict | None, part: str):
    values = [e["valueDecimal"] for g in _ext(address or {}, GEO) for e in _ext(g, part) if "valueDecimal" in e]
    if not values:
        return None
    return Decimal(repr(values[0])).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)  # decimal(38,10)


def _omb(patient: dict, name: str):
    codes = [e["valueCoding"].get("code") for x in _ext(patient, US_CORE + name)
             for e in _ext(x, "ombCategory") if "valueCoding" in e]
    return _first(codes)


def expected_row(p: dict) -> dict:
    """What the view should produce for one Patient, written without FHIRPath or Spark."""
    official = [n for n in p.get("name", []) if n.get("use") == "official"]
    address = _first(p.get("address", []))
    ids = p.get("identifier", [])
    marital = [c.get("code") for c in p.get("maritalStatus", {}).get("coding", [])
               if c.get("system") == "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"]
    return {
        "id": p["id"],
        "mrn": _first([i["value"] for i in ids
                       if any(c.get("code") == "MR" for c in i.get("type", {}).get("coding", []))]),
        "ssn": _first([i["value"] for i in ids if i.get("system") == "http://hl7.org/fhir/sid/us-ssn"]),
        "gender": p.get("gender"),
        "birth_date": p.get("birthDate"),
        "deceased": "deceasedDateTime" in p or p.get("deceasedBoolean") is True,
        "deceased_date_time": p.get("deceasedDateTime"),
        "prefix": _first([x for n in official for x in n.get("prefix", [])]),
        "family": _first([n["family"] for n in official if "family" in n]),
        "given": _first([g for n in official for g in n.get("given", [])]),
        "given_names": " ".join(g for n in official for g in n.get("given", [])),
        "phone": _first([t["value"] for t in p.get("telecom", []) if t.get("system") == "phone"]),
        "address_line": ", ".join((address or {}).get("line", [])),
        "city": (address or {}).get("city"),
        "state": (address or {}).get("state"),
        "postal_code": (address or {}).get("postalCode"),
        "country": (address or {}).get("country"),
        "latitude": _geo(address, "latitude"),
        "longitude": _geo(address, "longitude"),
        "marital_status_code": _first(marital),
        "race_code": _omb(p, "us-core-race"),
        "ethnicity_code": _omb(p, "us-core-ethnicity"),
        "birth_sex": _first([e["valueCode"] for e in _ext(p, US_CORE + "us-core-birthsex") if "valueCode" in e]),
        "language": _first([c.get("code") for m in p.get("communication", [])
                            for c in m.get("language", {}).get("coding", [])]),
        "multiple_birth": p.get("multipleBirthBoolean"),
        "managing_organization_id": None,  # Synthea sets no managingOrganization
    }


@pytest.fixture(scope="module")
def ndjson(samples) -> Path:
    return samples / "synthea-bulk-10-patients" / "Patient.000.ndjson"


def test_patient_view_matches_plain_python(spark, ndjson):
    patients = [json.loads(line) for line in ndjson.read_text().splitlines() if line.strip()]
    compiled = compile_view(VIEW)
    frame = compiled.apply(read_ndjson(spark, ndjson))  # bronze shape: (resource_type, raw_json)

    assert frame.columns == list(expected_row(patients[0]))
    actual = {r["id"]: r.asDict() for r in frame.collect()}
    assert len(patients) == 13 and len(actual) == 13  # one row per patient
    for patient in patients:
        assert actual[patient["id"]] == expected_row(patient), patient["id"]
    # the sample exercises both branches of the interesting columns
    assert {r["deceased"] for r in actual.values()} == {True, False}
    assert any(r["prefix"] is None for r in actual.values()) and any(r["prefix"] for r in actual.values())


def test_patient_view_column_types():
    types = {c.name: (c.fhir_type, c.spark_type.simpleString()) for c in compile_view(VIEW).columns}
    assert types["birth_date"] == ("date", "string")  # partial dates survive as ISO text
    assert types["deceased"] == ("boolean", "boolean")
    assert types["latitude"] == ("decimal", "decimal(38,10)")
    assert types["id"] == ("id", "string")
