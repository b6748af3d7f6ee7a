"""References resolve inside the output, and point at the right things."""

from __future__ import annotations

from tests.unit.generator.testkit import instant, read_resources


def _reference_pairs(resource: dict, path: str = "") -> list[tuple[str, str]]:
    """(json path, reference) for every Reference in a resource."""
    found = []
    if isinstance(resource, dict):
        if isinstance(resource.get("reference"), str):
            found.append((path, resource["reference"]))
        for key, value in resource.items():
            found.extend(_reference_pairs(value, f"{path}.{key}"))
    elif isinstance(resource, list):
        for value in resource:
            found.extend(_reference_pairs(value, path))
    return found


def _index(resources: dict[str, list[dict]]) -> dict[str, dict]:
    return {f"{rtype}/{r['id']}": r for rtype, rows in resources.items() for r in rows}


def test_every_reference_of_batch_1_resolves_inside_batch_1(two_batches):
    resources = read_resources(two_batches["batch1"])
    index = _index(resources)
    references = [(r["resourceType"], p, ref) for rows in resources.values() for r in rows
                  for p, ref in _reference_pairs(r)]
    assert len(references) > 1000
    unresolved = [item for item in references if item[2] not in index]
    assert unresolved == []
    kinds = {(rtype, path, ref.split("/")[0]) for rtype, path, ref in references}
    assert ("Encounter", ".serviceProvider", "Organization") in kinds
    assert ("Condition", ".encounter", "Encounter") in kinds
    assert ("Observation", ".encounter", "Encounter") in kinds
    assert ("Encounter", ".diagnosis.condition", "Condition") in kinds
    assert ("Patient", ".managingOrganization", "Organization") in kinds


def test_references_of_an_update_batch_resolve_against_both_batches(two_batches):
    index = _index(read_resources(two_batches["batch1"])) | _index(read_resources(two_batches["batch2"]))
    second = read_resources(two_batches["batch2"])
    unresolved = [ref for rows in second.values() for r in rows for _, ref in _reference_pairs(r) if ref not in index]
    assert unresolved == []


def test_clinical_references_stay_within_one_patient_and_inside_the_encounter(two_batches):
    resources = read_resources(two_batches["batch1"])
    encounters = {e["id"]: e for e in resources["Encounter"]}
    for resource in resources["Condition"] + resources["Observation"]:
        encounter = encounters[resource["encounter"]["reference"].removeprefix("Encounter/")]
        assert resource["subject"] == encounter["subject"]
        if resource["resourceType"] == "Observation":
            effective = instant(resource["effectiveDateTime"])
            assert instant(encounter["period"]["start"]) <= effective
            if "end" in encounter["period"]:
                assert effective <= instant(encounter["period"]["end"])
    for encounter in resources["Encounter"]:
        for diagnosis in encounter.get("diagnosis", []):
            condition_id = diagnosis["condition"]["reference"].removeprefix("Condition/")
            condition = next(c for c in resources["Condition"] if c["id"] == condition_id)
            assert condition["encounter"]["reference"] == f"Encounter/{encounter['id']}"
