"""KPI flags on hand-built stays (tiny frames): every boundary of docs/kpis.md."""

from __future__ import annotations

from datetime import date

import pytest

from fhirpulse.core.config.model import GoldConfig
from spark_jobs.gold.stays import kpi_groups, measurement_end
from spark_jobs.silver.transforms import with_conditional_reference, with_encounter_times
from tests.unit.spark_jobs.frames import frame
from tests.unit.spark_jobs.gold.helpers import stay_facts

ENCOUNTER = ("id string, patient_id string, status string, class_system string, class_code string, "
             "priority_code string, period_start string, period_end string, discharge_disposition string, "
             "service_provider_id string, service_provider_reference string")
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
SEPSIS, PNEUMONIA = "91302008", "233604007"
CFG = GoldConfig()


def enc(eid, patient, start, end, disposition="home", priority="EM", status="finished", cls="IMP",
        org="Organization/h1"):
    provider_id = org.split("/", 1)[1] if org and org.startswith("Organization/") else None
    return (eid, patient, status, ACT, cls, priority, start, end, disposition, provider_id, org)


def facts(spark, encounters, patients=(), conditions=(), organizations=(), cfg=CFG, period_end=None):
    enc_df = with_conditional_reference(with_encounter_times(frame(spark, list(encounters), ENCOUNTER)),
                                        "service_provider_reference", "service_provider_identifier")
    pat_df = frame(spark, list(patients) or [("nobody", "1950-01-01", None)],
                   "id string, birth_date string, deceased_date_time string")
    cond_df = frame(spark, list(conditions), "id string, patient_id string, code_system string, code string, "
                                             "onset string")
    org_df = frame(spark, list(organizations), "id string, identifier_system string, identifier_value string")
    if period_end is None:
        from spark_jobs.gold.stays import inpatient_stays
        period_end = measurement_end(inpatient_stays(enc_df), cfg)
    return {r.encounter_id: r for r in stay_facts(enc_df, pat_df, cond_df, org_df, cfg, period_end).collect()}


# A late stay of another patient fixes the measurement end far enough away for the censoring window.
LATE = enc("late", "p-late", "2024-12-01T08:00:00Z", "2024-12-31T08:00:00Z")


def test_only_finished_inpatient_encounters_with_both_ends_are_stays(spark):
    rows = facts(spark, [enc("s", "p", "2024-01-01T08:00:00Z", "2024-01-03T08:00:00Z"),
                         enc("amb", "p", "2024-01-05T08:00:00Z", "2024-01-05T09:00:00Z", cls="AMB"),
                         enc("running", "p", "2024-01-06T08:00:00Z", None, status="in-progress"),
                         enc("no-end", "p", "2024-01-06T08:00:00Z", None), LATE])
    assert set(rows) == {"s", "late"}
    assert rows["s"].los_days == pytest.approx(2.0)


@pytest.mark.parametrize(("gap", "readmitted"), [("29 23", True), ("30 07", True), ("30 09", False)])
def test_readmission_one_hour_inside_and_outside_30_days(spark, gap, readmitted):
    days, hour = gap.split()
    start = date(2024, 1, 10).toordinal() + int(days)
    again = f"{date.fromordinal(start).isoformat()}T{hour}:00:00Z"
    rows = facts(spark, [enc("first", "p", "2024-01-05T08:00:00Z", "2024-01-10T08:00:00Z"),
                         enc("again", "p", again, f"{date.fromordinal(start + 2).isoformat()}T08:00:00Z"), LATE])
    assert rows["first"].readmission_index and rows["first"].readmitted is readmitted


def test_elective_readmission_does_not_count_but_a_missing_priority_does(spark):
    rows = facts(spark, [enc("a", "p", "2024-01-01T08:00:00Z", "2024-01-05T08:00:00Z"),
                         enc("planned", "p", "2024-01-10T08:00:00Z", "2024-01-12T08:00:00Z", priority="EL"),
                         enc("b", "q", "2024-01-01T08:00:00Z", "2024-01-05T08:00:00Z"),
                         enc("unplanned", "q", "2024-01-10T08:00:00Z", "2024-01-12T08:00:00Z", priority=None),
                         LATE])
    assert (rows["a"].readmitted, rows["b"].readmitted) == (False, True)


@pytest.mark.parametrize("disposition", ["aadvice", "07", "hosp", "02"])
def test_against_advice_and_transfer_discharges_are_no_index(spark, disposition):
    rows = facts(spark, [enc("left", "p", "2024-01-01T08:00:00Z", "2024-01-05T08:00:00Z", disposition),
                         enc("back", "p", "2024-01-10T08:00:00Z", "2024-01-12T08:00:00Z"), LATE])
    assert not rows["left"].readmission_index and not rows["left"].readmitted
    assert rows["back"].readmission_index


@pytest.mark.parametrize(("disposition", "deceased", "died"), [
    ("exp", None, True), ("20", None, True), ("41", None, True),
    ("home", "2024-01-05T20:00:00Z", True),   # within [start, end + 1 day]
    ("home", "2024-01-06T08:00:00Z", True),   # exactly end + 1 day
    ("home", "2024-01-06T08:01:00Z", False),  # later: not in hospital
    ("home", "2023-12-31T08:00:00Z", False),  # before the stay (bad data): not this stay's death
])
def test_death_by_disposition_or_by_deceased_date_time(spark, disposition, deceased, died):
    rows = facts(spark, [enc("s", "p", "2024-01-01T08:00:00Z", "2024-01-05T08:00:00Z", disposition), LATE],
                 patients=[("p", "1950-06-01", deceased)])
    assert rows["s"].died is died
    assert rows["s"].readmission_index is not died  # a death is never an index stay


def test_the_censoring_window_keeps_recent_discharges_out_of_the_index(spark):
    # The newest end is 2024-03-01T12:00Z: index stays must end by 2024-01-31T12:00Z.
    rows = facts(spark, [enc("in", "p", "2024-01-20T08:00:00Z", "2024-01-31T12:00:00Z"),
                         enc("out", "q", "2024-01-20T08:00:00Z", "2024-01-31T12:01:00Z"),
                         enc("newest", "r", "2024-02-25T08:00:00Z", "2024-03-01T12:00:00Z")])
    assert (rows["in"].readmission_index, rows["out"].readmission_index, rows["newest"].readmission_index) == (
        True, False, False)
    configured = GoldConfig(measurement_period_end=date(2024, 6, 1))
    rows = facts(spark, [enc("out", "q", "2024-01-20T08:00:00Z", "2024-01-31T12:01:00Z")], cfg=configured,
                 period_end=measurement_end(None, configured))
    assert rows["out"].readmission_index


def _hai(spark, onsets, start="2024-03-01T10:00:00Z", end="2024-03-08T10:00:00Z"):
    conditions = [(f"c{i}", "p", SNOMED, code, onset) for i, (code, onset) in enumerate(onsets)]
    return facts(spark, [enc("s", "p", start, end), LATE], conditions=conditions)["s"]


@pytest.mark.parametrize(("onset", "hai"), [
    ("2024-03-02T23:00:00Z", False),  # hospital day 2: within the present-on-admission window
    ("2024-03-03T00:30:00Z", True),   # day 3
    ("2024-03-09T09:00:00Z", True),   # discharge date + 1
    ("2024-03-10T09:00:00Z", False),  # after discharge + 1
])
def test_infection_onset_day_2_vs_day_3_and_after_discharge(spark, onset, hai):
    row = _hai(spark, [(SEPSIS, onset)])
    assert row.hai_eligible and row.hai is hai


def test_present_on_admission_excludes_the_same_code_only(spark):
    assert not _hai(spark, [(SEPSIS, "2024-02-28T10:00:00Z"), (SEPSIS, "2024-03-05T10:00:00Z")]).hai
    assert _hai(spark, [(PNEUMONIA, "2024-02-28T10:00:00Z"), (SEPSIS, "2024-03-05T10:00:00Z")]).hai
    assert not _hai(spark, [("22298006", "2024-03-05T10:00:00Z")]).hai  # not an infection code


def test_a_stay_too_short_for_the_hai_denominator(spark):
    short = _hai(spark, [(SEPSIS, "2024-03-02T12:00:00Z")], end="2024-03-02T23:00:00Z")
    exact = _hai(spark, [(SEPSIS, "2024-03-03T12:00:00Z")], end="2024-03-03T01:00:00Z")
    assert (short.hai_eligible, short.hai) == (False, False)
    assert (exact.hai_eligible, exact.hai) == (True, True)


def test_calendar_dates_are_utc_dates(spark):
    row = facts(spark, [enc("s", "p", "2024-03-01T22:30:00-05:00", "2024-03-03T20:00:00-05:00"), LATE],
                patients=[("p", "1960-03-02", None)])["s"]
    assert (row.admission_date, row.discharge_date) == (date(2024, 3, 2), date(2024, 3, 4))
    assert (row.age_at_admission, row.age_band, row.discharge_month) == (64, "45-64", "2024-03")


def test_conditional_service_provider_references_resolve_to_the_organization(spark):
    synthea = "https://github.com/synthetichealth/synthea"
    rows = facts(spark, [enc("s", "p", "2024-01-01T08:00:00Z", "2024-01-03T08:00:00Z",
                             org=f"Organization?identifier={synthea}%7Corg-9"),
                         enc("t", "p", "2024-02-01T08:00:00Z", "2024-02-03T08:00:00Z", org=None), LATE],
                 organizations=[("org-9", synthea, "org-9")])
    assert (rows["s"].hospital_id, rows["t"].hospital_id, rows["late"].hospital_id) == ("org-9", "unknown", "h1")


def test_kpi_groups_hold_numerators_and_denominators(spark):
    stays = [enc("a", "p", "2024-01-01T08:00:00Z", "2024-01-05T08:00:00Z", "exp"),
             enc("b", "q", "2024-01-02T08:00:00Z", "2024-01-03T20:00:00Z"), LATE]
    enc_df = with_conditional_reference(with_encounter_times(frame(spark, stays, ENCOUNTER)),
                                        "service_provider_reference", "service_provider_identifier")
    pat = frame(spark, [("p", "1950-01-01", None), ("q", "1950-01-01", None)],
                "id string, birth_date string, deceased_date_time string")
    none = frame(spark, [], "id string, patient_id string, code_system string, code string, onset string")
    orgs = frame(spark, [], "id string, identifier_system string, identifier_value string")
    groups = kpi_groups(stay_facts(enc_df, pat, none, orgs, CFG, None)).where("discharge_month = '2024-01'")
    (row,) = groups.collect()
    assert (row.stays, row.deaths, row.readmission_index, row.hai_denominator) == (2, 1, 0, 1)
    assert row.los_days_sum == pytest.approx(4.0 + 1.5)


def test_the_length_of_stay_sum_does_not_depend_on_the_order_of_the_stays(spark):
    """Incremental and full runs meet the same stays in another order: a sum of doubles would differ in its
    last bits (here 0.3760069444444445 vs 0.37600694444444444 days)."""
    from datetime import datetime, timedelta

    start = datetime(2024, 1, 1, 8)
    lengths = [timedelta(hours=1, seconds=17), timedelta(hours=1, seconds=29), timedelta(hours=7, seconds=41)]
    schema = ("discharge_month string, hospital_id string, age_band string, died boolean, readmission_index boolean,"
              " readmitted boolean, hai_eligible boolean, hai boolean, start_ts timestamp, end_ts timestamp")
    rows = [("2024-01", "h", "45-64", False, False, False, False, False, start, start + n) for n in lengths]
    sums = {kpi_groups(spark.createDataFrame(order, schema).coalesce(1)).first().los_days_sum
            for order in (rows, rows[::-1], rows[1:] + rows[:1])}
    exact = sum(n / timedelta(microseconds=1) for n in lengths) / 86_400_000_000
    assert sums == {exact}


@pytest.mark.parametrize(("birth", "admission", "age"), [
    ("1960-02-29", "2023-02-28", 62), ("1960-02-29", "2023-03-01", 63), ("1960-03-31", "2024-02-29", 63),
    ("2006-05-10", "2024-05-10", 18), ("2006-05-11", "2024-05-10", 17),
])
def test_age_counts_completed_years(spark, birth, admission, age):
    from pyspark.sql import functions as F

    from spark_jobs.gold.stays import completed_years

    row = spark.range(1).select(completed_years(F.to_date(F.lit(birth)), F.to_date(F.lit(admission))).alias("a"))
    assert row.first().a == age
