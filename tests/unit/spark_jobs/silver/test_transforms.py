"""Silver's named transformations on tiny frames."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality

from spark_jobs.silver.transforms import (
    with_conditional_reference,
    with_encounter_times,
    with_quality_flags,
    with_row_key,
)


def test_encounter_times_are_utc_and_length_of_stay_is_fractional_days(spark):
    df = spark.createDataFrame([("e1", "2024-03-01T22:30:00-05:00", "2024-03-03T10:30:00Z"),
                                ("e2", "2024-03-01", None)], "id string, period_start string, period_end string")
    rows = {r.id: r for r in with_encounter_times(df).collect()}
    assert rows["e1"].start_ts.isoformat() == "2024-03-02T03:30:00" and rows["e1"].length_of_stay_days == pytest.approx(31 / 24)
    assert rows["e2"].start_ts.isoformat() == "2024-03-01T00:00:00" and rows["e2"].length_of_stay_days is None


def test_conditional_references_keep_system_and_value(spark):
    df = spark.createDataFrame([("Organization?identifier=https://github.com/synthetichealth/synthea|abc",),
                                ("Organization?identifier=urn:oid:1.2%7Cx",), ("Organization/abc",), (None,)],
                               "ref string")
    got = with_conditional_reference(df, "ref", "ident")
    expected = spark.createDataFrame([
        ("Organization?identifier=https://github.com/synthetichealth/synthea|abc",
         "https://github.com/synthetichealth/synthea|abc"),
        ("Organization?identifier=urn:oid:1.2%7Cx", "urn:oid:1.2|x"), ("Organization/abc", None), (None, None)],
        "ref string, ident string")
    assert_df_equality(got, expected, ignore_nullable=True)


def test_row_keys_change_with_content_only_for_views_with_several_rows_per_resource(spark):
    df = spark.createDataFrame([("c1", "A"), ("c1", "B"), ("c1", "B")], "id string, code string")
    many = [r._row_key for r in with_row_key(df, "id", ["id", "code"], one_per_resource=False).collect()]
    assert len(set(many)) == 2 and all(k.startswith("c1|") for k in many)  # identical rows share a key
    one = [r._row_key for r in with_row_key(df.limit(1), "id", ["id", "code"], one_per_resource=True).collect()]
    assert one == ["c1"]


@pytest.mark.parametrize(("view", "row", "flags"), [
    ("encounter", ("e", "p1", "IMP", "finished", "2024-01-02", None), ["finished_inpatient_without_end"]),
    ("encounter", ("e", "p1", "IMP", "finished", "2024-01-02", "2024-01-01"), ["end_before_start"]),
    ("encounter", ("e", "ghost", "AMB", "finished", "2024-01-01", "2024-01-01"), ["unknown_patient"]),
    ("encounter", ("e", "p1", "IMP", "in-progress", "2024-01-01", None), []),
])
def test_quality_flags_mark_rows_without_dropping_them(spark, view, row, flags):
    df = with_encounter_times(spark.createDataFrame(
        [row], "id string, patient_id string, class_code string, status string, period_start string, "
               "period_end string"))
    patients = spark.createDataFrame([("p1",)], "id string")
    (flagged,) = with_quality_flags(df, view, patients).collect()
    assert flagged.id == "e" and flagged.dq_flags == flags


def test_a_birth_date_in_the_future_is_flagged(spark):
    df = spark.createDataFrame([("p1", "2999-01-01"), ("p2", "1970-01-01")], "id string, birth_date string")
    assert {r.id: r.dq_flags for r in with_quality_flags(df, "patient", None).collect()} == {
        "p1": ["birth_date_in_future"], "p2": []}
