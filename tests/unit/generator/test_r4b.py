"""Every generated resource is valid FHIR R4 (fhir.resources.R4B; the package's default models are R5)."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from tests.unit.generator.testkit import data_files, read_bytes, read_resources, run_batch


def _invalid(resources: list[dict]) -> list[str]:
    problems = []
    for resource in resources:
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except ValidationError as err:
            problems.append(f"{resource['resourceType']}/{resource['id']}: {err.errors()[:2]}")
    return problems


@pytest.mark.parametrize("batch", ["batch1", "batch2"])
def test_every_resource_of_a_batch_validates_as_r4b(two_batches, batch):
    resources = read_resources(two_batches[batch])
    assert {"Patient", "Encounter", "Condition", "Observation", "Organization"} <= set(resources)
    everything = [r for rows in resources.values() for r in rows]
    assert len(everything) > 1000
    assert _invalid(everything) == []


def test_the_fhir_resources_default_models_would_be_the_wrong_version():
    """Guards the choice of R4B: R5 renamed Encounter.class to a list, so an R4 Encounter fails there."""
    from fhir.resources.encounter import Encounter as R5Encounter

    r4_encounter = {"resourceType": "Encounter", "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}}
    get_fhir_model_class("Encounter").model_validate(r4_encounter)
    with pytest.raises(ValidationError):
        R5Encounter.model_validate(r4_encounter)


def test_bundle_format_gives_valid_r4b_transaction_bundles_with_urn_uuid_references(tmp_path):
    run_batch(tmp_path, patients=25, output_format="bundle")
    files = data_files(tmp_path)
    assert len(files) == 26 and any(f.name == "hospitalInformation.json" for f in files)
    bundle_model = get_fhir_model_class("Bundle")
    for path in files:
        bundle = json.loads(read_bytes(path))
        bundle_model.model_validate(bundle)
        assert bundle["type"] == "transaction"
        full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
            assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
            for reference in _references(resource):
                # inside a patient bundle: urn:uuid of an entry; hospitals live in hospitalInformation.json
                assert reference in full_urls or reference.startswith("Organization/"), reference
        assert _invalid([entry["resource"] for entry in bundle["entry"]]) == []


def test_gzip_output_decompresses_to_the_plain_bytes(tmp_path):
    run_batch(tmp_path / "plain", patients=60)
    run_batch(tmp_path / "gz", patients=60, gzip=True)
    plain = {p.relative_to(tmp_path / "plain").as_posix(): p.read_bytes() for p in data_files(tmp_path / "plain")}
    zipped = {p.relative_to(tmp_path / "gz").as_posix().removesuffix(".gz"): read_bytes(p)
              for p in data_files(tmp_path / "gz")}
    assert all(p.suffix == ".gz" for p in data_files(tmp_path / "gz"))
    assert plain == zipped


def _references(value) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_update_batch_bundles_are_named_after_their_patient_and_validate(tmp_path):
    run_batch(tmp_path, batch=2, patients=10, update_fraction=1.0, output_format="bundle",
              start_date="2024-11-01", end_date="2024-12-31")
    bundle_model = get_fhir_model_class("Bundle")
    files = [p for p in data_files(tmp_path) if p.name != "hospitalInformation.json"]
    assert len(files) > 10  # 10 new patients + the updated ones of batch 1
    for path in files:
        bundle = json.loads(read_bytes(path))
        bundle_model.model_validate(bundle)
        entries = {e["fullUrl"] for e in bundle["entry"]}
        subjects = {e["resource"].get("subject", {}).get("reference") for e in bundle["entry"]} - {None}
        patients = {e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"}
        assert patients <= {path.stem}
        # The patient is referenced by urn:uuid when it is in the bundle, else literally (sent in batch 1).
        assert subjects <= ({f"urn:uuid:{path.stem}"} if patients else {f"Patient/{path.stem}"})
        for entry in bundle["entry"]:
            for ref in _references(entry["resource"]):
                assert ref in entries or not ref.startswith("urn:uuid:"), ref
