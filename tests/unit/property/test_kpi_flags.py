"""Gold KPI flags (`spark_jobs/gold/stays.py`) against the plain-Python KPI reference, on random populations.

Each example is a small population of raw FHIR resources — patients (birth dates, deceasedDateTime near a
stay's end), inpatient and other encounters (classes, statuses, times with offsets such as -05:00, discharge
dispositions in HL7 and NUBC codes, elective or emergency priority, gaps around the 30-day readmission
window), infection Conditions with onsets around admission day ± 3, hospitals referenced literally or by a
conditional `Organization?identifier=` reference. The project's path is the production one: the silver
ViewDefinitions of config/views (run by the SQL-on-FHIR engine), silver's named transformations, then
`measurement_end`, `stay_base` then `flag_stays` (`stay_facts` in tests/unit/spark_jobs/gold/helpers.py), and
`kpi_groups` for the totals. The expected values come from
tests/integration/gold/kpi_reference.py (plain Python over raw FHIR, no project code: checked below).
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fhirpulse.core.config.model import GoldConfig
from spark_jobs.gold.stays import inpatient_stays, kpi_groups, measurement_end
from spark_jobs.silver.job import VIEW_TRANSFORMS
from spark_jobs.sof import compile_view
from spark_jobs.sof.sources import frame_from_resources
from tests.integration.gold import kpi_reference as ref
from tests.unit.property.common import budget
from tests.unit.spark_jobs.gold.helpers import stay_facts

REPO = Path(__file__).resolve().parents[3]
VIEWS = ("encounter", "patient", "condition", "organization")
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
SYNTHEA = "https://github.com/synthetichealth/synthea"
DISCHARGE = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
NUBC = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
INFECTIONS = ["91302008", "233604007", "68566005", "186431008"]  # sepsis, pneumonia, UTI, C. difficile
OFFSETS = [timedelta(0), timedelta(hours=-5), timedelta(hours=-4), timedelta(hours=2), timedelta(hours=5, minutes=30)]
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
FLAGS = ("died", "readmission_index", "readmitted", "hai_eligible", "hai")


def test_the_reference_imports_no_project_code():
    tree = ast.parse(Path(ref.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "json", "datetime", "pathlib"}, imported


# ------------------------------------------------------------------------------------------------ inputs


def fhir_time(moment: datetime, offset: timedelta) -> str:
    """An instant written in a given UTC offset (a FHIR dateTime with seconds: `Z` or `±hh:mm`)."""
    local = moment.astimezone(timezone(offset))
    zone = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if not offset else f"{zone[:3]}:{zone[3:]}")


minutes = st.integers


@st.composite
def stays_of(draw, patient: str, hospitals: list[str]) -> list[dict]:
    """A patient's encounters, one after the other with gaps around the readmission window."""
    encounters = []
    moment = EPOCH + timedelta(minutes=draw(minutes(0, 200 * 24 * 60)))
    for k in range(draw(st.integers(1, 4))):
        offset = draw(st.sampled_from(OFFSETS))
        length = draw(st.one_of(minutes(0, 3 * 24 * 60), minutes(0, 15 * 24 * 60),
                                st.sampled_from([48 * 60, 47 * 60, 49 * 60, 24 * 60]), minutes(-120, -1)))
        start, end = moment, moment + timedelta(minutes=length)
        enc = {"resourceType": "Encounter", "id": f"{patient}-e{k}",
               "status": draw(st.sampled_from(["finished"] * 6 + ["in-progress", "cancelled"])),
               "class": {"code": draw(st.sampled_from(["IMP"] * 6 + ["AMB", "EMER"]))},
               "subject": {"reference": draw(st.sampled_from([f"Patient/{patient}", f"urn:uuid:{patient}"]))},
               "period": {"start": fhir_time(start, offset)}}
        system = draw(st.sampled_from([ACT, ACT, None, "http://example.org/other"]))
        if system:
            enc["class"]["system"] = system
        if draw(st.integers(0, 9)):
            enc["period"]["end"] = fhir_time(end, draw(st.sampled_from(OFFSETS)))
        priority = draw(st.sampled_from(["EL", "EM", None]))
        if priority:
            enc["priority"] = {"coding": [{"code": priority}]}
        disposition = draw(st.sampled_from([("home", DISCHARGE), ("home", DISCHARGE), ("exp", DISCHARGE),
                                            ("aadvice", DISCHARGE), ("hosp", DISCHARGE), ("other-hcf", DISCHARGE),
                                            ("01", NUBC), ("20", NUBC), ("41", NUBC), ("07", NUBC), ("02", NUBC),
                                            None]))
        if disposition:
            enc["hospitalization"] = {"dischargeDisposition": {"coding": [{"system": disposition[1],
                                                                             "code": disposition[0]}]}}
        provider = draw(st.sampled_from([*hospitals, None]))
        if provider:
            enc["serviceProvider"] = {"reference": provider}
        encounters.append((enc, start, end))
        gap = draw(st.one_of(minutes(0, 40 * 24 * 60), st.sampled_from([30 * 24 * 60 - 60, 30 * 24 * 60,
                                                                       30 * 24 * 60 + 60, 1])))
        moment = max(end, start) + timedelta(minutes=gap)
    return encounters


@st.composite
def populations(draw) -> list[dict]:
    resources: list[dict] = []
    orgs = draw(st.integers(1, 2))
    hospitals = []
    for h in range(orgs):
        resources.append({"resourceType": "Organization", "id": f"h{h}", "name": f"Hospital {h}",
                          "identifier": [{"system": SYNTHEA, "value": f"org-{h}"}]})
        hospitals += [f"Organization/h{h}", f"Organization?identifier={SYNTHEA}|org-{h}",
                      f"Organization?identifier={SYNTHEA}%7Corg-{h}"]
    hospitals.append("Organization/nowhere")
    for p in range(draw(st.integers(1, 6))):
        pid = f"p{p}"
        encounters = draw(stays_of(pid, hospitals))
        resources += [enc for enc, _, _ in encounters]
        if draw(st.integers(0, 9)):
            patient = {"resourceType": "Patient", "id": pid}
            if draw(st.integers(0, 9)):
                patient["birthDate"] = draw(st.dates(date(1920, 1, 1), date(2023, 12, 31))).isoformat()
            death = draw(st.integers(0, 3))
            if death:
                _, start, end = draw(st.sampled_from(encounters))
                around = end if death < 3 else start
                moment = around + timedelta(minutes=draw(st.one_of(
                    minutes(-2 * 24 * 60, 2 * 24 * 60), st.sampled_from([24 * 60, 24 * 60 + 1, 0, -1]))))
                patient["deceasedDateTime"] = draw(st.one_of(
                    st.just(fhir_time(moment, draw(st.sampled_from(OFFSETS)))),
                    st.just(moment.date().isoformat())))
            resources.append(patient)
        for c in range(draw(st.integers(0, 3))):
            _, start, _ = draw(st.sampled_from(encounters))
            onset = start + timedelta(minutes=draw(minutes(-4 * 24 * 60, 8 * 24 * 60)))
            condition = {"resourceType": "Condition", "id": f"{pid}-c{c}",
                         "subject": {"reference": f"Patient/{pid}"},
                         "code": {"coding": [{"system": draw(st.sampled_from([SNOMED, SNOMED, None,
                                                                              "http://hl7.org/fhir/sid/icd-10-cm"])),
                                              "code": draw(st.sampled_from([*INFECTIONS, "22298006"]))}]}}
            if not condition["code"]["coding"][0]["system"]:
                del condition["code"]["coding"][0]["system"]
            if draw(st.integers(0, 9)):
                condition["onsetDateTime"] = fhir_time(onset, draw(st.sampled_from(OFFSETS)))
            resources.append(condition)
    return resources


# --------------------------------------------------------------------------------------------- the code


@pytest.fixture(scope="module")
def views(fast_spark):
    return {name: compile_view(REPO / "config" / "views" / f"{name}.json") for name in VIEWS}


def gold_facts(spark, views, resources: list[dict]):
    """Raw resources -> silver rows (views + silver's transformations) -> stays with flags, and KPI groups."""
    bronze = frame_from_resources(spark, resources)
    silver = {}
    for name, view in views.items():
        rows = view.apply(bronze)
        for transform in VIEW_TRANSFORMS.get(name, []):
            rows = transform(rows)
        silver[name] = rows
    cfg = GoldConfig()
    period_end = measurement_end(inpatient_stays(silver["encounter"]), cfg)
    facts = stay_facts(silver["encounter"], silver["patient"], silver["condition"], silver["organization"], cfg,
                       period_end).persist()
    try:
        stays = {r.encounter_id: r for r in facts.collect()}
        groups = kpi_groups(facts).collect()
    finally:
        facts.unpersist()
    return stays, groups


def by_type(resources: list[dict]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for res in resources:
        out.setdefault(res["resourceType"], {})[res["id"]] = res
    return out


# -------------------------------------------------------------------------------------------- properties


@budget(8)
@given(populations())
def test_stay_flags_and_totals_equal_the_reference(fast_spark, views, resources):
    stays, groups = gold_facts(fast_spark, views, resources)
    expected = {s["id"]: s for s in ref.stays(by_type(resources))}
    assert set(stays) == set(expected), "the same encounters are stays"
    for eid, want in expected.items():
        got = stays[eid]
        flags = {"died": want["died"], "readmission_index": want["index"], "readmitted": want["readmitted"],
                 "hai_eligible": want["hai_eligible"], "hai": want["hai"]}
        assert {f: getattr(got, f) for f in FLAGS} == flags, f"{eid}: {json.dumps(_story(resources, eid))}"
        assert (got.hospital_id, got.age_band, got.discharge_month) == (
            want["hospital"], want["age_band"], want["month"]), eid
        assert got.los_days == pytest.approx(want["los"], abs=1e-6), eid
    # Totals: the KPI table's numerators and denominators add up to the reference's.
    summary = ref.summary(list(expected.values()))
    totals = {k: sum(getattr(g, k) for g in groups) for k in (
        "stays", "deaths", "readmission_index", "readmissions", "hai_denominator", "hai_stays")}
    assert totals == {k: summary[k] for k in totals}
    assert sum(g.los_days_sum for g in groups) == pytest.approx(sum(s["los"] for s in expected.values()), abs=1e-6)


def _story(resources: list[dict], encounter_id: str) -> list[dict]:
    """The resources of the encounter's patient, for a readable failure."""
    patient = encounter_id.split("-")[0]
    return [r for r in resources if r["id"] == patient or r["id"].startswith(patient + "-")]
