"""Pure DataFrame -> DataFrame KPI logic: silver encounters, patients, conditions -> one row per stay.

Definitions (docs/kpis.md; parameters from the config's `gold` section):
- a stay is a `finished` Encounter of class IMP with a start and an end;
- died: a death discharge disposition, or the patient's deceasedDateTime in [start, end + 1 day];
- readmission index: alive, disposition not excluded, end <= measurement end - window; readmitted: another
  stay of the patient starts in (end, end + window] and is not elective;
- HAI: eligible when admission date + 2 <= discharge date (UTC dates); HAI when an infection Condition of the
  patient has its onset date in [admission + 2, discharge + 1] and no Condition of the same code has one in
  [admission - 2, admission + 1] (present on admission).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from fhirpulse.core.config.model import GoldConfig
from fhirpulse.core.terminology import ACT_CODE, INPATIENT_CLASS, SNOMED
from spark_jobs.lake.tables import KPI_KEYS

UNKNOWN = "unknown"
AGE_BANDS = ((0, 17, "0-17"), (18, 44, "18-44"), (45, 64, "45-64"), (65, 74, "65-74"), (75, 84, "75-84"),
             (85, None, "85+"))


def inpatient_stays(encounters: DataFrame) -> DataFrame:
    """Finished IMP encounters with both ends of their period (silver `encounter` rows)."""
    is_imp = (F.col("class_code") == INPATIENT_CLASS) & (F.col("class_system").isNull()
                                                          | (F.col("class_system") == ACT_CODE))
    return encounters.where(is_imp & (F.col("status") == "finished") & F.col("start_ts").isNotNull()
                            & F.col("end_ts").isNotNull())


def hospitals(organizations: DataFrame) -> DataFrame:
    """`system|value` -> Organization id, for conditional `serviceProvider` references."""
    return (organizations.where(F.col("identifier_system").isNotNull() & F.col("identifier_value").isNotNull())
            .select(F.concat_ws("|", "identifier_system", "identifier_value").alias("service_provider_identifier"),
                    F.col("id").alias("resolved_hospital_id"))
            .dropDuplicates(["service_provider_identifier"]))


def age_band(age: Column) -> Column:
    band = F.lit(UNKNOWN)
    for low, high, label in reversed(AGE_BANDS):
        band = F.when((age >= low) & (age <= high) if high is not None else age >= low, label).otherwise(band)
    return band


def completed_years(birth: Column, on: Column) -> Column:
    """Whole years from `birth` to `on` (a birthday not yet reached that year does not count; 29 February
    birthdays count on 1 March in other years)."""
    before_birthday = (F.month(on) < F.month(birth)) | ((F.month(on) == F.month(birth))
                                                        & (F.dayofmonth(on) < F.dayofmonth(birth)))
    return (F.year(on) - F.year(birth) - before_birthday.cast("int")).cast("int")


def measurement_end(stays: DataFrame, cfg: GoldConfig) -> datetime | None:
    """The configured period end (UTC midnight), else the newest stay end in the data."""
    if cfg.measurement_period_end is not None:
        return datetime.combine(cfg.measurement_period_end, datetime.min.time())
    return stays.agg(F.max("end_ts")).first()[0]


def _in(column: str, values) -> Column:
    return F.col(column).isin(list(values))


def _base(stays: DataFrame, patients: DataFrame, hospital_ids: DataFrame) -> DataFrame:
    patient = patients.select(F.col("id").alias("patient_id"), F.to_date("birth_date").alias("birth_date"),
                              F.to_timestamp("deceased_date_time").alias("deceased_ts")).dropDuplicates(["patient_id"])
    base = (stays.join(patient, "patient_id", "left")
            .join(hospital_ids, "service_provider_identifier", "left")
            .select(F.col("id").alias("encounter_id"), "patient_id", "start_ts", "end_ts", "priority_code",
                    "discharge_disposition", "birth_date", "deceased_ts",
                    F.coalesce("service_provider_id", "resolved_hospital_id", F.lit(UNKNOWN)).alias("hospital_id")))
    return base.select("*", F.to_date("start_ts").alias("admission_date"), F.to_date("end_ts").alias("discharge_date"))


def _died(cfg: GoldConfig) -> Column:
    by_disposition = F.coalesce(_in("discharge_disposition", cfg.death_dispositions), F.lit(False))
    deceased_during = (F.col("deceased_ts") >= F.col("start_ts")) & (
        F.col("deceased_ts") <= F.col("end_ts") + F.expr("INTERVAL 1 DAY"))
    return by_disposition | F.coalesce(deceased_during, F.lit(False))


def _readmitted(index: DataFrame, stays: DataFrame, cfg: GoldConfig) -> DataFrame:
    """encounter_id of index stays followed by a non-elective stay of the patient within the window."""
    window = F.expr(f"INTERVAL {cfg.readmission_window_days} DAYS")
    later = stays.where(~F.coalesce(_in("priority_code", cfg.elective_priorities), F.lit(False))).select(
        F.col("patient_id").alias("next_patient_id"), F.col("start_ts").alias("next_start_ts"))
    matched = index.join(later, (index["patient_id"] == later["next_patient_id"])
                         & (later["next_start_ts"] > index["end_ts"])
                         & (later["next_start_ts"] <= index["end_ts"] + window))
    return matched.select("encounter_id").distinct().withColumn("readmitted", F.lit(True))


def _hai(eligible: DataFrame, conditions: DataFrame, cfg: GoldConfig) -> DataFrame:
    """encounter_id of HAI-eligible stays with a hospital-acquired (not present-on-admission) infection."""
    infections = conditions.where(_in("code", cfg.hai_infection_codes) & (
        F.col("code_system").isNull() | (F.col("code_system") == SNOMED))).select(
        F.col("patient_id").alias("infection_patient_id"), "code",
        F.to_date(F.to_timestamp("onset")).alias("onset_date")).where(F.col("onset_date").isNotNull())
    pairs = eligible.join(infections, eligible["patient_id"] == infections["infection_patient_id"])
    onset, admission = F.col("onset_date"), F.col("admission_date")
    acquired = onset.between(F.date_add(admission, 2), F.date_add(F.col("discharge_date"), 1))
    on_admission = onset.between(F.date_sub(admission, 2), F.date_add(admission, 1))
    per_code = pairs.groupBy("encounter_id", "code").agg(F.max(acquired.cast("int")).alias("acquired"),
                                                         F.max(on_admission.cast("int")).alias("on_admission"))
    return (per_code.where((F.col("acquired") == 1) & (F.col("on_admission") == 0))
            .select("encounter_id").distinct().withColumn("hai", F.lit(True)))


def stay_base(encounters: DataFrame, patients: DataFrame, organizations: DataFrame, cfg: GoldConfig,
              period_end: datetime | None) -> DataFrame:
    """One row per stay with its patient, hospital and the flags that need no other stay or condition (died,
    readmission index, HAI-eligible). `encounters` are silver encounter rows of the patients to compute
    (all of their encounters), `period_end` the readmission measurement end."""
    stays = inpatient_stays(encounters)
    base = _base(stays, patients, hospitals(organizations))
    base = base.withColumn("died", _died(cfg))
    cutoff = (F.lit(period_end).cast("timestamp") - F.expr(f"INTERVAL {cfg.readmission_window_days} DAYS")
              if period_end is not None else F.lit(None).cast("timestamp"))
    excluded = F.coalesce(_in("discharge_disposition", cfg.readmission_excluded_dispositions), F.lit(False))
    base = base.withColumn("readmission_index", ~F.col("died") & ~excluded
                           & F.coalesce(F.col("end_ts") <= cutoff, F.lit(False)))
    return base.withColumn("hai_eligible", F.date_add("admission_date", 2) <= F.col("discharge_date"))


def flag_stays(base: DataFrame, conditions: DataFrame, cfg: GoldConfig) -> DataFrame:
    """`stay_base` rows -> stay facts: the readmission and HAI flags (which read the base three times: a
    caller that runs this on a large plan materializes `base` first), age band, length of stay."""
    readmitted = _readmitted(base.where("readmission_index"), base, cfg)
    hai = _hai(base.where("hai_eligible"), conditions, cfg)
    age = completed_years(F.col("birth_date"), F.col("admission_date"))
    return (base.join(readmitted, "encounter_id", "left").join(hai, "encounter_id", "left")
            .select("encounter_id", "patient_id", "hospital_id", "start_ts", "end_ts", "admission_date",
                    "discharge_date", F.date_format("discharge_date", "yyyy-MM").alias("discharge_month"),
                    age.alias("age_at_admission"), age_band(age).alias("age_band"),
                    ((F.col("end_ts").cast("double") - F.col("start_ts").cast("double")) / 86400.0).alias("los_days"),
                    "died", "readmission_index", F.coalesce("readmitted", F.lit(False)).alias("readmitted"),
                    "hai_eligible", F.coalesce("hai", F.lit(False)).alias("hai")))


MICROS_PER_DAY = 86_400_000_000.0


def kpi_groups(stays: DataFrame) -> DataFrame:
    """Numerators and denominators by month x hospital x age band, so any roll-up is exact."""
    def count_if(column: str) -> Column:
        return F.sum(F.col(column).cast("long"))

    return stays.groupBy(*KPI_KEYS).agg(
        F.count(F.lit(1)).alias("stays"), count_if("died").alias("deaths"),
        count_if("readmission_index").alias("readmission_index"),
        count_if("readmitted").alias("readmissions"),
        count_if("hai_eligible").alias("hai_denominator"), count_if("hai").alias("hai_stays"),
        # Summed as whole microseconds, then divided once: a sum of doubles depends on the order of the rows,
        # and an incremental run must give the same bits as a full one.
        (F.sum(F.unix_micros("end_ts") - F.unix_micros("start_ts")) / MICROS_PER_DAY).alias("los_days_sum"),
    )
