"""Determinism (same seed -> same bytes, whatever the worker count) and update batches."""

from __future__ import annotations

from generator.runner import JobSpec, picked_for_update, plan_tasks
from tests.unit.generator.testkit import data_files, read_resources, run_batch


def _files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in data_files(root)}


def test_same_seed_gives_the_same_bytes_whatever_the_worker_count(tmp_path):
    run_batch(tmp_path / "one", patients=150, workers=1)
    run_batch(tmp_path / "two", patients=150, workers=2)
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert len(one) == 5 and one == two


def test_a_different_seed_gives_different_data(tmp_path):
    run_batch(tmp_path / "a", patients=40, seed=1)
    run_batch(tmp_path / "b", patients=40, seed=2)
    a, b = read_resources(tmp_path / "a"), read_resources(tmp_path / "b")
    assert not {p["id"] for p in a["Patient"]} & {p["id"] for p in b["Patient"]}
    assert [p["name"] for p in a["Patient"]] != [p["name"] for p in b["Patient"]]


def test_gzip_and_update_batches_are_deterministic_too(tmp_path):
    for run in ("x", "y"):
        run_batch(tmp_path / run, batch=3, patients=50, update_fraction=0.3, gzip=True, workers=2)
    assert _files(tmp_path / "x") == _files(tmp_path / "y")


def test_update_batch_re_emits_earlier_resources_with_newer_last_updated(two_batches):
    first, second = read_resources(two_batches["batch1"]), read_resources(two_batches["batch2"])
    for resource_type in ("Patient", "Encounter", "Condition", "Observation"):
        earlier = {r["id"]: r for r in first[resource_type]}
        again = [r for r in second[resource_type] if r["id"] in earlier]
        assert again, f"no {resource_type} updated"
        for resource in again:
            assert resource["meta"]["lastUpdated"] > earlier[resource["id"]]["meta"]["lastUpdated"]
            assert resource != earlier[resource["id"]]
    # Each batch has its own new patients: 120 new + the updated half of batch 1.
    new = {p["id"] for p in second["Patient"]} - {p["id"] for p in first["Patient"]}
    assert len(new) == 120
    updated = {p["id"] for p in second["Patient"]} & {p["id"] for p in first["Patient"]}
    assert 35 <= len(updated) <= 85


def test_update_batch_changes_are_the_kinds_downstream_upserts_must_handle(two_batches):
    first, second = read_resources(two_batches["batch1"]), read_resources(two_batches["batch2"])
    before = {r["id"]: r for rows in first.values() for r in rows}
    changes = set()
    for resource in (r for rows in second.values() for r in rows):
        old = before.get(resource["id"])
        if old is None:
            continue
        if resource["resourceType"] == "Encounter" and old["status"] == "in-progress":
            assert resource["status"] in ("finished", "in-progress")
            changes.add(f"encounter {old['status']} -> {resource['status']}")
        if resource["resourceType"] == "Patient" and resource["telecom"] != old["telecom"]:
            changes.add("patient telecom")
        if resource["resourceType"] == "Observation" and resource["status"] == "amended":
            assert resource["valueQuantity"]["value"] != old["valueQuantity"]["value"]
            changes.add("observation amended")
        if resource["resourceType"] == "Condition" and resource["clinicalStatus"] != old["clinicalStatus"]:
            changes.add("condition resolved")
    assert {"encounter in-progress -> finished", "patient telecom", "observation amended",
            "condition resolved"} <= changes


def test_update_picks_are_a_seeded_fraction_of_each_earlier_batch():
    picks = [picked_for_update(42, 3, origin, i, 0.1) for origin in (1, 2) for i in range(5000)]
    assert 0.085 < sum(picks) / len(picks) < 0.115
    assert picks == [picked_for_update(42, 3, origin, i, 0.1) for origin in (1, 2) for i in range(5000)]


def test_plan_covers_new_patients_and_every_earlier_batch():
    from tests.unit.generator.testkit import generator_config

    tasks = plan_tasks(JobSpec(config=generator_config(patients=120, chunk_patients=50), batch=3))
    assert [(t.origin_batch, t.start, t.count) for t in tasks] == [
        (3, 0, 50), (3, 50, 50), (3, 100, 20), (1, 0, 50), (1, 50, 50), (1, 100, 20), (2, 0, 50), (2, 50, 50),
        (2, 100, 20)]
