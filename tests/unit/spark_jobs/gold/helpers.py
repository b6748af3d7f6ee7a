"""Test helpers for the gold KPI logic."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame

from fhirpulse.core.config.model import GoldConfig
from spark_jobs.gold.stays import flag_stays, stay_base


def stay_facts(encounters: DataFrame, patients: DataFrame, conditions: DataFrame, organizations: DataFrame,
               cfg: GoldConfig, period_end: datetime | None) -> DataFrame:
    """One row per stay with its KPI flags: `flag_stays` of `stay_base` (the gold job runs the two with the base
    materialized between them). `encounters` are silver encounter rows of the patients to compute (all of
    their encounters), `period_end` the readmission measurement end."""
    return flag_stays(stay_base(encounters, patients, organizations, cfg, period_end), conditions, cfg)
