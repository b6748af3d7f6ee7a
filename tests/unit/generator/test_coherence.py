"""Clinical coherence of the output, checked from the FHIR alone."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from tests.unit.generator.testkit import day, instant, read_resources

INFECTIONS = {"91302008", "233604007", "68566005", "128045006", "186431008", "87628006"}


def _by_patient(encounters):
    grouped = defaultdict(list)
    for encounter in encounters:
        grouped[encounter["subject"]["reference"].removeprefix("Patient/")].append(encounter)
    for rows in grouped.values():
        rows.sort(key=lambda e: e["period"]["start"])
    return grouped


def _disposition(encounter):
    return encounter.get("hospitalization", {}).get("dischargeDisposition", {}).get("coding", [{}])[0].get("code")


def test_deaths_nobody_is_seen_after_death_and_in_hospital_deaths_end_the_stay(cohort):
    resources = read_resources(cohort[0])
    encounters = _by_patient(resources["Encounter"])
    patients = {p["id"]: p for p in resources["Patient"]}
    assert set(encounters) == set(patients)  # every patient has been seen at least once
    deceased = [p for p in patients.values() if "deceasedDateTime" in p]
    assert len(deceased) > 50
    for patient in deceased:
        death = instant(patient["deceasedDateTime"])
        rows = encounters[patient["id"]]
        assert all(instant(e["period"]["end"]) <= death for e in rows if "end" in e["period"])
        last = rows[-1]
        if _disposition(last) == "exp":  # in-hospital death: at the end of the stay
            assert last["class"]["code"] == "IMP" and instant(last["period"]["end"]) == death
        else:  # otherwise discharged to hospice, dying within 60 days
            hospice = [e for e in rows if _disposition(e) == "hosp"]
            assert hospice and hospice[-1] is [e for e in rows if e["class"]["code"] == "IMP"][-1]
            assert 0 < (death - instant(hospice[-1]["period"]["end"])).days <= 61
    for rows in encounters.values():
        for encounter in rows:
            if _disposition(encounter) == "exp":
                patient = patients[encounter["subject"]["reference"].removeprefix("Patient/")]
                assert patient["deceasedDateTime"] == encounter["period"]["end"]


def test_encounters_do_not_overlap_and_stays_are_well_formed(cohort):
    resources = read_resources(cohort[0])
    for rows in _by_patient(resources["Encounter"]).values():
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert "end" in earlier["period"] and earlier["period"]["end"] <= later["period"]["start"]
    for encounter in resources["Encounter"]:
        if encounter["class"]["code"] != "IMP":
            continue
        if encounter["status"] == "finished":
            los = (day(encounter["period"]["end"]) - day(encounter["period"]["start"])).days
            assert los >= 1 and encounter["length"]["value"] == los
            assert _disposition(encounter) is not None
        else:
            assert encounter["status"] == "in-progress"
            assert "end" not in encounter["period"] and _disposition(encounter) is None


def test_infections_are_either_present_on_admission_or_from_hospital_day_3(cohort):
    resources = read_resources(cohort[0])
    encounters = {e["id"]: e for e in resources["Encounter"]}
    offsets = []
    for condition in resources["Condition"]:
        if not {c["code"] for c in condition["code"]["coding"]} & INFECTIONS:
            continue
        encounter = encounters[condition["encounter"]["reference"].removeprefix("Encounter/")]
        assert encounter["class"]["code"] == "IMP"
        offset = (day(condition["onsetDateTime"]) - day(encounter["period"]["start"])).days
        offsets.append(offset)
        assert offset == 0 or offset >= 2
        if "end" in encounter["period"]:
            assert instant(condition["onsetDateTime"]) < instant(encounter["period"]["end"])
    assert 0 in offsets and any(o >= 2 for o in offsets)


def test_chronic_conditions_start_before_the_first_admission(cohort):
    resources = read_resources(cohort[0])
    first_admission = {}
    for patient_id, rows in _by_patient(resources["Encounter"]).items():
        stays = [e for e in rows if e["class"]["code"] == "IMP"]
        if stays:
            first_admission[patient_id] = stays[0]["period"]["start"]
    chronic = [c for c in resources["Condition"] if c["category"][0]["coding"][0]["code"] == "problem-list-item"]
    assert len(chronic) > 1000
    for condition in chronic:
        patient_id = condition["subject"]["reference"].removeprefix("Patient/")
        assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
        if patient_id in first_admission:
            assert instant(condition["onsetDateTime"]) < instant(first_admission[patient_id])


def test_vitals_and_labs_follow_the_clinical_picture(two_batches):
    resources = read_resources(two_batches["batch1"])
    admitted = {f"Encounter/{e['id']}": day(e["period"]["start"]) for e in resources["Encounter"]}
    infected_on_admission = {  # encounters whose stay starts with an infection (onset on hospital day 1)
        c["encounter"]["reference"] for c in resources["Condition"]
        if {x["code"] for x in c["code"]["coding"]} & INFECTIONS
        and day(c["onsetDateTime"]) == admitted[c["encounter"]["reference"]]
    }
    ckd_patients = {c["subject"]["reference"] for c in resources["Condition"] if c["code"]["coding"][0]["code"] == "709044004"}
    values = defaultdict(lambda: defaultdict(list))
    for observation in resources["Observation"]:
        code = observation["code"]["coding"][0]["code"]
        if code == "85354-9":
            systolic = observation["component"][0]["valueQuantity"]["value"]
            assert 70 <= systolic <= 220
            continue
        value = observation["valueQuantity"]["value"]
        assert observation["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        infected = observation["encounter"]["reference"] in infected_on_admission
        values[code]["infected" if infected else "other"].append(value)
        values[code]["ckd" if observation["subject"]["reference"] in ckd_patients else "no-ckd"].append(value)
    temperature, wbc, creatinine = values["8310-5"], values["6690-2"], values["2160-0"]
    assert all(34.5 <= t <= 41.5 for t in temperature["other"] + temperature["infected"])
    assert mean(temperature["infected"]) > mean(temperature["other"]) + 0.3
    assert mean(wbc["infected"]) > mean(wbc["other"]) + 2
    assert mean(creatinine["ckd"]) > 1.5 * mean(creatinine["no-ckd"])
