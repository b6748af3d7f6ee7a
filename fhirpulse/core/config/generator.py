"""The `generator` section of the config: output layout, population and clinical parameters."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from fhirpulse.core.config.fields import S3Prefix, Strict
from fhirpulse.core.terminology import ALIVE_DISCHARGE_DISPOSITIONS, COMORBIDITIES


class GeneratorConfig(Strict):
    """Synthetic FHIR R4 generator (`fhirpulse generate`): output layout, population and clinical parameters.

    Rates are *per inpatient admission* unless the name says otherwise; generator/README.md defines each
    realised KPI exactly (the definitions the gold layer and the generator tests use).
    """

    raw_key_template: str = Field(
        default="{raw_prefix}/{resource_type}/dt={date}/{batch}.ndjson",
        description="Object key (or path under --out DIR) of one NDJSON file per resource type per batch. "
        "Placeholders: {raw_prefix} {resource_type} {date} (batch as-of date) {batch} (batch label).",
    )
    bundle_key_template: str = Field(
        default="{raw_prefix}/Bundle/dt={date}/{batch}/{name}.json",
        description="Key of one transaction Bundle per patient (--format bundle); {name} is the patient id, or "
        "'hospitalInformation' for the Organization bundle.",
    )
    summary_prefix: S3Prefix = Field(
        default="generator/summaries",
        description="S3 prefix (sibling of raw, never under it) where S3 runs upload generation-summary JSON.",
    )
    seed: int = Field(default=42, ge=0, le=2**63 - 1, description="Master seed: same seed -> same bytes.")
    patients: int = Field(default=1000, ge=1, le=50_000_000, description="New patients per batch.")
    start_date: date = Field(default=date(2023, 1, 1), description="First day index admissions can start (UTC).")
    end_date: date = Field(
        default=date(2024, 12, 31),
        description="Data as-of date of batch 1 (inclusive): nothing later than this day is emitted in batch 1.",
    )
    batch_interval_days: int = Field(
        default=7, ge=1, le=365, description="Batch N is as of end_date + (N-1) * this many days."
    )
    update_fraction: float = Field(
        default=0.1, ge=0.0, le=1.0,
        description="Share of earlier batches' patients re-emitted (changed, newer lastUpdated) by a batch."
    )
    hospitals: int = Field(default=5, ge=1, le=500, description="Number of hospital Organizations.")
    age_mean: float = Field(default=62.0, ge=18, le=100, description="Mean age (years) at start_date.")
    age_sd: float = Field(default=17.0, ge=0, le=50, description="SD of age; ages are clipped to 18..100.")
    admissions_per_patient: float = Field(
        default=1.2, ge=0, le=20,
        description="Mean number of index (non-readmission) inpatient admissions per patient (Poisson).",
    )
    emergency_admission_fraction: float = Field(
        default=0.65, ge=0.0, le=1.0,
        description="Share of admissions that come through the emergency department."
    )
    los_mean_days: float = Field(
        default=5.0, ge=1.5, le=60,
        description="Mean length of stay in calendar days (midnights), LOS = 1 + negative binomial.",
    )
    los_dispersion: float = Field(
        default=1.5, gt=0.05, le=100, description="Negative-binomial shape of LOS-1: smaller = longer tail."
    )
    los_max_days: int = Field(default=90, ge=2, le=365, description="Stays are capped at this many days.")
    in_hospital_death_probability: float = Field(
        default=0.03, ge=0.0, le=1.0,
        description="P(patient dies during an admission): deceasedDateTime at the stay end, "
        "dischargeDisposition exp."
    )
    hai_probability: float = Field(
        default=0.05, ge=0.0, le=1.0,
        description="P(an admission has a hospital-acquired infection, onset on hospital day >= 3); "
        "risk grows with exposure days, so only stays of 2+ days can have one."
    )
    hai_death_relative_risk: float = Field(
        default=2.5, ge=1, le=50,
        description="Death risk of stays with an HAI relative to stays without (the overall death rate is kept).",
    )
    poa_infection_probability: float = Field(
        default=0.12, ge=0.0, le=1.0,
        description="P(an admission is for an infection present on admission, onset on day 1)."
    )
    readmission_probability: float = Field(
        default=0.12, ge=0.0, le=1.0,
        description="P(an alive, non-hospice discharge is followed by an inpatient admission "
        "within 30 days)."
    )
    discharge_disposition_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"home": 0.72, "snf": 0.12, "rehab": 0.05, "other-hcf": 0.03, "hosp": 0.03,
                                 "long": 0.02, "aadvice": 0.02, "alt-home": 0.01},
        description="Relative weights of alive discharge dispositions (HL7 discharge-disposition codes; 'hosp' "
        "= hospice, followed by death outside hospital; patients 75+ go to snf twice as often).",
    )
    comorbidity_prevalence: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=lambda: {"hypertension": 0.45, "diabetes": 0.25, "ckd": 0.15, "copd": 0.12,
                                 "heart_failure": 0.10, "atrial_fibrillation": 0.08, "asthma": 0.08,
                                 "depression": 0.15},
        description="Prevalence of chronic comorbidities (onset before start_date), scaled up with age.",
    )
    ed_visits_per_patient: float = Field(
        default=0.6, ge=0, le=50, description="Mean treat-and-release emergency visits per patient (Poisson)."
    )
    followup_visit_probability: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="P(an ambulatory follow-up visit 7-14 days after an alive discharge)."
    )
    vitals_per_day: int = Field(
        default=3, ge=0, le=24,
        description="Vital-sign rounds per inpatient day (HR, RR, temp, SpO2, BP each).",
    )
    labs_per_day: int = Field(default=1, ge=0, le=6, description="Lab panels per inpatient day (6 LOINC labs).")
    validate_sample: float = Field(
        default=0.002, ge=0.0, le=1.0,
        description="Share of resources validated against fhir.resources R4B (plus the first of each type per "
        "chunk; 0 = none, 1 = all). Validating costs ~50x generating: 0.01 adds ~50% CPU, 0.002 ~10%.",
    )
    workers: int | None = Field(default=None, ge=1, le=256, description="Processes; null = CPU count.")
    chunk_patients: int = Field(
        default=250, ge=1, le=100_000,
        description="Patients per unit of work. Output bytes do not depend on workers; gzip member "
        "boundaries do depend on this value.",
    )
    s3_part_size_mb: int = Field(default=16, ge=5, le=5120, description="S3 multipart part size (MiB).")

    @field_validator("discharge_disposition_weights")
    @classmethod
    def _dispositions(cls, value: dict[str, float]) -> dict[str, float]:
        allowed = ALIVE_DISCHARGE_DISPOSITIONS
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"unknown alive discharge dispositions {sorted(unknown)} "
                             f"(allowed: {sorted(allowed)})")
        if sum(value.values()) <= 0:
            raise ValueError("weights must not all be 0")
        return value

    @field_validator("comorbidity_prevalence")
    @classmethod
    def _comorbidities(cls, value: dict[str, float]) -> dict[str, float]:
        known = set(COMORBIDITIES)
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown comorbidities {sorted(unknown)} (known: {sorted(known)})")
        return value

    @field_validator("end_date")
    @classmethod
    def _window(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and (value - start).days < 60:
            raise ValueError("must be at least 60 days after start_date")
        return value
