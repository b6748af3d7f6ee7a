"""Realised clinical rates of a batch, counted from the simulated timelines as the batch shows them.

The definitions (also in generator/README.md; the gold layer and tests/unit/generator compute the same from
the FHIR output):
- admission: Encounter class IMP; only *finished* ones (period.end before the cut) enter the rates below;
- in-hospital death: finished admission with dischargeDisposition 'exp' (Patient.deceasedDateTime = period.end);
- hospital-acquired infection (HAI): finished admission with an infection Condition (terminology
  INFECTION_CODES) whose onset date >= admission date + 2 days (hospital day >= 3);
- present-on-admission (POA) infection: infection Condition with onset date == admission date;
- LOS: discharge date - admission date in days (calendar days, UTC);
- 30-day readmission: of finished admissions discharged alive and not to hospice ('exp', 'hosp' excluded)
  with a discharge date at least 30 days before the as-of date, the share followed by another admission of
  the same patient whose admission date is 0-30 days after that discharge date.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fhirpulse.core.terminology import AMBULATORY_CLASS, EMERGENCY_CLASS, EXPIRED, HOSPICE
from generator.clock import day_of
from generator.params import ClinicalModel
from generator.simulation.model import PatientTimeline

READMISSION_WINDOW_DAYS = 30


@dataclass
class RateCounters:
    patients: int = 0
    patients_deceased: int = 0
    admissions_finished: int = 0
    admissions_in_progress: int = 0
    in_hospital_deaths: int = 0
    hai_admissions: int = 0
    poa_infection_admissions: int = 0
    los_days_total: int = 0
    readmission_index_discharges: int = 0
    readmissions_30d: int = 0
    emergency_visits: int = 0
    ambulatory_visits: int = 0
    comorbidities: Counter = field(default_factory=Counter)

    def account(self, timeline: PatientTimeline, cut: int) -> None:
        """Add one patient as shown at `cut`."""
        self.patients += 1
        self.patients_deceased += timeline.death is not None and timeline.death < cut
        self.comorbidities.update(timeline.comorbidities)
        last_follow_up_day = day_of(cut) - 1 - READMISSION_WINDOW_DAYS
        stays = [s for s in timeline.stays if s.start < cut]
        for position, stay in enumerate(stays):
            if not stay.finished_before(cut):
                self.admissions_in_progress += 1
                continue
            self.admissions_finished += 1
            self.in_hospital_deaths += stay.died
            self.hai_admissions += stay.hai is not None
            self.poa_infection_admissions += stay.poa_infection
            self.los_days_total += stay.los_days
            discharge_day = day_of(stay.end)
            if stay.disposition in (EXPIRED, HOSPICE) or discharge_day > last_follow_up_day:
                continue
            self.readmission_index_discharges += 1
            following = stays[position + 1] if position + 1 < len(stays) else None
            if following is not None and day_of(following.start) - discharge_day <= READMISSION_WINDOW_DAYS:
                self.readmissions_30d += 1
        for visit in timeline.visits:
            if visit.start < cut:
                self.emergency_visits += visit.encounter_class == EMERGENCY_CLASS
                self.ambulatory_visits += visit.encounter_class == AMBULATORY_CLASS

    def merge(self, other: RateCounters) -> None:
        for name, value in vars(other).items():
            if name == "comorbidities":
                self.comorbidities.update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def rates(self, model: ClinicalModel) -> list[dict]:
        """Requested vs realised, with numerator and denominator so a reader can judge the noise."""
        cfg = model.config
        admissions = self.admissions_finished
        rows = [
            _rate("in_hospital_mortality", cfg.in_hospital_death_probability, self.in_hospital_deaths, admissions),
            _rate("hai_per_admission", cfg.hai_probability, self.hai_admissions, admissions),
            _rate("poa_infection_per_admission", cfg.poa_infection_probability, self.poa_infection_admissions,
                  admissions),
            _rate("readmission_30d", cfg.readmission_probability, self.readmissions_30d,
                  self.readmission_index_discharges),
            _rate("mean_los_days", cfg.los_mean_days, self.los_days_total, admissions),
            _rate("admissions_per_patient", None, admissions + self.admissions_in_progress, self.patients),
            _rate("emergency_visits_per_patient", cfg.ed_visits_per_patient, self.emergency_visits, self.patients),
        ]
        for key, prevalence in cfg.comorbidity_prevalence.items():
            rows.append(_rate(f"prevalence_{key}", prevalence, self.comorbidities[key], self.patients))
        return rows


def _rate(name: str, requested: float | None, numerator: int, denominator: int) -> dict:
    return {
        "metric": name,
        "requested": requested,
        "realised": numerator / denominator if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
    }
