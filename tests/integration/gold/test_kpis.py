"""Silver and gold end to end on the real stack, checked against plain Python over the raw files.

Its own environment (bucket, ledger, Glue databases) on the shared moto server and Trino, so that only this
module's files are in its lake: two generated batches (the second with updates), the Synthea samples, and a
hand-made encounter whose newer version arrives later and whose older version is then uploaded again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from fhirpulse.stack.landing import upload_tree
from spark_jobs.bronze.job import run_bronze
from spark_jobs.gold.job import run_gold
from spark_jobs.lake import hudi, timeline
from spark_jobs.lake.tables import kpi_table, silver_table, stays_table
from spark_jobs.silver.job import load_views, run_silver
from tests.conftest import require_samples
from tests.integration.gold import kpi_reference as ref
from tests.integration.helpers import assert_equal_kpis, generate, isolated_env, table_content

pytestmark = pytest.mark.integration
SYNTHEA = ["synthea-bulk-10-patients", "synthea-bulk-100-patients", "synthea-bundles"]
PATIENTS, SEED = 80, 5
_SAME_BRONZE = ("_bronze_commit",)  # a rebuild reads the same bronze commits


@pytest.fixture(scope="module")
def env(running_stack, tmp_path_factory):
    with isolated_env("kpitest", tmp_path_factory.mktemp("config")) as cfg:
        yield cfg


def _generate(out: Path, batch: int) -> Path:
    return generate(out, "kpitest", PATIENTS, SEED, batch)


def _encounter(version: str, status: str, end: str | None) -> dict:
    period = {"start": "2024-06-01T08:00:00-04:00"} | ({"end": end} if end else {})
    return {"resourceType": "Encounter", "id": "late-version-enc", "meta": {"lastUpdated": version},
            "status": status, "class": {"system": ref.ACT, "code": "IMP"}, "subject": {"reference": "Patient/late-p"},
            "period": period, "serviceProvider": {"reference": "Organization/late-org"}}


def _condition(version: str, codings: list[tuple[str, str]]) -> dict:
    return {"resourceType": "Condition", "id": "two-codings", "meta": {"lastUpdated": version},
            "subject": {"reference": "Patient/late-p"}, "onsetDateTime": "2024-06-04T10:00:00Z",
            "code": {"coding": [{"system": system, "code": code} for system, code in codings]}}


ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def _write(folder: Path, name: str, resources: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    return folder


def _pipeline(cfg, spark, full: bool = False) -> dict:
    session = lambda: spark  # noqa: E731
    return {"bronze": run_bronze(cfg, session), "silver": run_silver(cfg, session, full=full),
            "gold": run_gold(cfg, session, full=full)}


def _cli_kpis(*args: str) -> dict | list:
    out = subprocess.run([sys.executable, "-m", "fhirpulse.cli", "kpis", "--env", "kpitest", "--format", "json",
                          *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _data_tables(cfg) -> list[hudi.HudiTable]:
    return [silver_table(v.name) for v in load_views(cfg)] + [stays_table(cfg), kpi_table(cfg)]


@pytest.fixture(scope="module")
def first_load(env, lake_spark, tmp_path_factory):
    cfg = env
    root = tmp_path_factory.mktemp("raw")
    samples = [require_samples(name) for name in SYNTHEA]
    folders = [_generate(root / "gen-1", 1), *samples,
               _write(root / "late-1", "Encounter.ndjson", [_encounter("2024-06-02T00:00:00Z", "in-progress", None)]),
               _write(root / "late-patient", "Patient.ndjson", [
                   {"resourceType": "Patient", "id": "late-p", "birthDate": "1950-02-28",
                    "meta": {"lastUpdated": "2024-06-01T00:00:00Z"}}]),
               _write(root / "two-codings-1", "Condition.ndjson", [
                   _condition("2024-06-04T00:00:00Z", [(ref.SNOMED, "91302008"), (ICD10, "A41.9")])]),
               _write(root / "ghost-patient", "Observation.ndjson", [
                   {"resourceType": "Observation", "id": "ghost-obs", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": "Patient/ghost-p"}}])]
    for folder in folders:
        upload_tree(cfg, folder, folder.name)
    audits = _pipeline(cfg, lake_spark)
    return cfg, root, folders, audits


def test_first_load_kpis_equal_plain_python(first_load):
    cfg, _, folders, audits = first_load
    assert {name: audit.status for name, audit in audits.items()} == dict.fromkeys(audits, "SUCCEEDED")
    expected = ref.summary(ref.stays(ref.latest_resources(folders)))
    assert expected["stays"] > 100 and expected["deaths"] and expected["readmissions"] and expected["hai_stays"]
    assert_equal_kpis(_cli_kpis(), expected)


def test_a_row_whose_patient_is_not_in_silver_is_flagged_and_kept(first_load, lake_spark):
    cfg, _, _, audits = first_load
    flagged = (hudi.read(lake_spark, cfg, silver_table("observation"))
               .where(F.array_contains("dq_flags", "unknown_patient")).select("id", "patient_id").collect())
    assert [(r.id, r.patient_id) for r in flagged] == [("ghost-obs", "ghost-p")]
    assert audits["silver"].details["tables"]["observation"]["quality_flags"]["unknown_patient"] == 1


@pytest.fixture(scope="module")
def second_load(first_load, lake_spark):
    cfg, root, folders, _ = first_load
    late = _write(root / "late-2", "Encounter.ndjson",
                  [_encounter("2024-06-09T00:00:00Z", "finished", "2024-06-08T10:00:00-04:00")])
    stale = _write(root / "late-3", "Encounter.ndjson", [_encounter("2024-06-03T00:00:00Z", "in-progress", None)])
    fewer = _write(root / "two-codings-2", "Condition.ndjson", [_condition("2024-06-10T00:00:00Z", [(ICD10, "A41.9")])])
    batch2 = _generate(root / "gen-2", 2)
    for folder in (batch2, late, stale, fewer):
        upload_tree(cfg, folder, folder.name)
    audits = _pipeline(cfg, lake_spark)
    return cfg, [*folders, batch2, late, stale, fewer], audits


def test_an_update_batch_is_applied_incrementally_and_kpis_still_equal_plain_python(second_load, lake_spark):
    cfg, folders, audits = second_load
    resources = ref.latest_resources(folders)
    assert resources["Encounter"]["late-version-enc"]["status"] == "finished"  # the older re-upload lost
    found = ref.stays(resources)
    assert_equal_kpis(_cli_kpis(), ref.summary(found))
    by_month = {row.pop("month"): row for row in _cli_kpis("--by", "month")}
    months = sorted({s["month"] for s in found})
    assert sorted(by_month) == months
    for month in months:
        assert_equal_kpis(by_month[month], ref.summary([s for s in found if s["month"] == month]))
    gold = audits["gold"].details
    assert gold["patients"] != "all" and 0 < gold["patients"] < PATIENTS * 2  # only the touched patients
    stay = hudi.read(lake_spark, cfg, stays_table(cfg)).where("encounter_id = 'late-version-enc'").collect()
    assert [(s.hospital_id, s.age_band, s.los_days) for s in stay] == [("late-org", "65-74", pytest.approx(7 + 2 / 24))]


def test_an_updated_resource_with_fewer_repeats_leaves_no_stale_silver_row(second_load, lake_spark):
    cfg, _, _ = second_load
    rows = hudi.read(lake_spark, cfg, silver_table("condition")).where("id = 'two-codings'").collect()
    assert [(r.code_system, r.code) for r in rows] == [(ICD10, "A41.9")]


def test_a_run_with_nothing_new_writes_no_data_commit(second_load, lake_spark):
    cfg, _, _ = second_load
    before = {t.name: timeline.completed_commits(cfg, t) for t in _data_tables(cfg)}
    audits = _pipeline(cfg, lake_spark)
    assert {name: audit.status for name, audit in audits.items()} == dict.fromkeys(audits, "NOTHING_NEW")
    assert {t.name: timeline.completed_commits(cfg, t) for t in _data_tables(cfg)} == before


def test_full_rebuild_gives_the_same_tables(second_load, lake_spark):
    cfg, _, _ = second_load
    tables = _data_tables(cfg)
    incremental = {t.name: table_content(lake_spark, cfg, t.layer, t.name, keep=_SAME_BRONZE) for t in tables}
    session = lambda: lake_spark  # noqa: E731
    assert run_silver(cfg, session, full=True).status == "SUCCEEDED"
    assert run_gold(cfg, session, full=True).status == "SUCCEEDED"
    rebuilt = {t.name: table_content(lake_spark, cfg, t.layer, t.name, keep=_SAME_BRONZE) for t in tables}
    for name in incremental:
        assert rebuilt[name] == incremental[name], name
