"""Realised rates match the requested ones, recomputed from the NDJSON alone (plain json, no generator code).

Tolerance: 4 standard errors of the realised statistic (binomial sqrt(p(1-p)/n) for rates at the requested p;
sample sd / sqrt(n) for mean LOS). For a correct generator a 4-SE miss has a chance of about 6e-5 per check;
the seeds are fixed, so the test is deterministic. Definitions as in generator/README.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import pytest

from tests.unit.generator.testkit import day, read_resources, run_batch

INFECTIONS = {"91302008", "233604007", "68566005", "128045006", "186431008", "87628006"}
ALTERNATIVE = {"in_hospital_death_probability": 0.08, "hai_probability": 0.10, "poa_infection_probability": 0.25,
               "readmission_probability": 0.25, "los_mean_days": 7.0, "admissions_per_patient": 1.5}


def realised_kpis(root, as_of) -> dict[str, tuple[int, int] | tuple[float, float, int]]:
    resources = read_resources(root)
    stays = [e for e in resources["Encounter"] if e["class"]["code"] == "IMP"]
    finished = [e for e in stays if e["status"] == "finished"]
    infections_by_encounter = defaultdict(list)
    for condition in resources["Condition"]:
        codes = {c["code"] for c in condition["code"]["coding"]}
        if codes & INFECTIONS:
            infections_by_encounter[condition["encounter"]["reference"]].append(condition)

    def disposition(encounter):
        return encounter["hospitalization"]["dischargeDisposition"]["coding"][0]["code"]

    deaths = sum(disposition(e) == "exp" for e in finished)
    hai = poa = 0
    for encounter in finished:
        admitted = day(encounter["period"]["start"])
        offsets = [(day(c["onsetDateTime"]) - admitted).days for c in infections_by_encounter[f"Encounter/{encounter['id']}"]]
        hai += any(offset >= 2 for offset in offsets)
        poa += any(offset == 0 for offset in offsets)
    los = [(day(e["period"]["end"]) - day(e["period"]["start"])).days for e in finished]

    by_patient = defaultdict(list)
    for encounter in stays:
        by_patient[encounter["subject"]["reference"]].append(encounter)
    index_discharges = readmitted = 0
    for patient_stays in by_patient.values():
        patient_stays.sort(key=lambda e: e["period"]["start"])
        for position, encounter in enumerate(patient_stays):
            if encounter["status"] != "finished" or disposition(encounter) in ("exp", "hosp"):
                continue
            discharged = day(encounter["period"]["end"])
            if discharged > as_of - timedelta(days=30):
                continue
            index_discharges += 1
            if position + 1 < len(patient_stays):
                readmitted += (day(patient_stays[position + 1]["period"]["start"]) - discharged).days <= 30
    mean = sum(los) / len(los)
    sd = math.sqrt(sum((x - mean) ** 2 for x in los) / (len(los) - 1))
    return {"deaths": (deaths, len(finished)), "hai": (hai, len(finished)), "poa": (poa, len(finished)),
            "readmissions": (readmitted, index_discharges), "los": (mean, sd, len(los))}


def assert_rate_close(name: str, observed: tuple[int, int], requested: float) -> None:
    hits, n = observed
    assert n > 1000, f"{name}: too few cases ({n}) for a meaningful check"
    tolerance = 4 * math.sqrt(requested * (1 - requested) / n)
    assert abs(hits / n - requested) <= tolerance, f"{name}: {hits}/{n} = {hits / n:.4f}, requested {requested} ± {tolerance:.4f}"


def check_all(kpis, requested) -> None:
    assert_rate_close("in-hospital mortality", kpis["deaths"], requested["in_hospital_death_probability"])
    assert_rate_close("HAI per admission", kpis["hai"], requested["hai_probability"])
    assert_rate_close("POA infection per admission", kpis["poa"], requested["poa_infection_probability"])
    assert_rate_close("30-day readmission", kpis["readmissions"], requested["readmission_probability"])
    mean, sd, n = kpis["los"]
    assert abs(mean - requested["los_mean_days"]) <= 4 * sd / math.sqrt(n), f"mean LOS {mean:.3f} (n={n}, sd={sd:.2f})"


def test_default_parameters_are_realised(cohort):
    root, result = cohort
    requested = result.model.config.model_dump()
    kpis = realised_kpis(root, result.model.batch_as_of(1))
    check_all(kpis, requested)
    # The generator's own summary counts the same things the same way.
    own = {row["metric"]: (row["numerator"], row["denominator"]) for row in result.rates.rates(result.model)}
    assert own["in_hospital_mortality"] == kpis["deaths"]
    assert own["hai_per_admission"] == kpis["hai"]
    assert own["readmission_30d"] == kpis["readmissions"]


def test_other_parameters_are_realised_too(tmp_path):
    result = run_batch(tmp_path, patients=3000, vitals_per_day=0, labs_per_day=0, chunk_patients=500, seed=7,
                       **ALTERNATIVE)
    requested = result.model.config.model_dump()
    kpis = realised_kpis(tmp_path, result.model.batch_as_of(1))
    check_all(kpis, requested)
    with pytest.raises(AssertionError):  # the check is sharp enough to tell the two parameter sets apart
        check_all(kpis, {**requested, "in_hospital_death_probability": 0.03, "readmission_probability": 0.12})
