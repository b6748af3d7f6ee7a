"""Pure DataFrame -> DataFrame steps silver adds to a view's rows: what a ViewDefinition cannot express.

- `with_row_key`: one stable key per view row, so an updated resource's rows replace its old ones;
- `with_encounter_times`: FHIR dateTimes (any offset) as UTC timestamps, and the length of stay;
- `with_conditional_reference`: Synthea's `Organization?identifier=system|value` as `system|value`;
- `with_quality_flags`: the data-quality rules, as flags on the row (rows are flagged, never dropped).
`urn:uuid:` and literal references are resolved by the views' `getReferenceKey()` (Synthea and the generator
give a bundle entry the id of its `urn:uuid:`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fhirpulse.core.terminology import INPATIENT_CLASS

# Each rule: the view whose rows it checks, and when a row breaks it (a function: Columns need a running
# Spark). `unknown_patient` needs the patient ids and is added for every view with a `patient_id` column.
QUALITY_RULES: dict[str, dict[str, Callable[[], Column]]] = {
    "patient": {
        "birth_date_in_future": lambda: F.to_date("birth_date") > F.current_date(),
    },
    "encounter": {
        "end_before_start": lambda: F.col("end_ts") < F.col("start_ts"),
        "finished_inpatient_without_end": lambda: (F.col("class_code") == INPATIENT_CLASS)
        & (F.col("status") == "finished") & F.col("period_end").isNull(),
    },
}
UNKNOWN_PATIENT = "unknown_patient"


def with_row_key(rows: DataFrame, id_column: str, view_columns: Sequence[str], one_per_resource: bool) -> DataFrame:
    """`_row_key`: the resource id where a view gives one row per resource, else id + a hash of the row's
    content (identical rows of one resource are kept once)."""
    if one_per_resource:
        return rows.withColumn("_row_key", F.col(id_column))
    content = F.sha2(F.to_json(F.struct(*[F.col(c) for c in view_columns])), 256)
    return rows.withColumn("_row_key", F.concat_ws("|", F.col(id_column), content))


def fhir_timestamp(column: str) -> Column:
    """A FHIR date/dateTime/instant text (any offset, any precision) as a UTC timestamp."""
    return F.to_timestamp(F.col(column))


def with_encounter_times(encounters: DataFrame) -> DataFrame:
    """`start_ts`, `end_ts` (UTC) and `length_of_stay_days` (fractional days from the period)."""
    start, end = fhir_timestamp("period_start"), fhir_timestamp("period_end")
    return encounters.select(
        "*", start.alias("start_ts"), end.alias("end_ts"),
        ((end.cast("double") - start.cast("double")) / 86400.0).alias("length_of_stay_days"),
    )


def with_conditional_reference(rows: DataFrame, reference: str, target: str) -> DataFrame:
    """`<target>`: the `system|value` of a conditional reference `Type?identifier=system|value` (else null);
    an escaped bar (`%7C`) counts as a bar."""
    identifier = F.regexp_extract(F.col(reference), r"^[A-Za-z]+\?identifier=(.+)$", 1)
    return rows.withColumn(target, F.when(identifier != "", F.regexp_replace(identifier, "(?i)%7C", "|")))


def with_quality_flags(rows: DataFrame, view_name: str, patient_ids: DataFrame | None) -> DataFrame:
    """`dq_flags`: the names of the rules a row breaks (empty when none)."""
    checks = [F.when(rule(), F.lit(name)) for name, rule in QUALITY_RULES.get(view_name, {}).items()]
    if patient_ids is not None and "patient_id" in rows.columns:
        known = patient_ids.select(F.col("id").alias("_known_patient")).distinct()
        rows = rows.join(known, rows["patient_id"] == known["_known_patient"], "left")
        checks.append(F.when(F.col("_known_patient").isNull(), F.lit(UNKNOWN_PATIENT)))
        flagged = rows.withColumn("dq_flags", F.array_compact(F.array(*checks)))
        return flagged.drop("_known_patient")
    return rows.withColumn("dq_flags", F.array_compact(F.array(*checks)) if checks
                           else F.array().cast("array<string>"))
