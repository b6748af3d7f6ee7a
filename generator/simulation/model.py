"""The simulated clinical history of one patient: plain records with minute timestamps, no FHIR yet.

A timeline does not depend on any batch cut-off: it is simulated once from the patient's seed, and each batch
shows the part of it recorded before that batch's cut (see generator/fhir/emit.py). That is what lets a later
batch finish a stay that an earlier batch saw in progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fhirpulse.core.terminology import Concept


@dataclass(frozen=True, slots=True)
class Hospital:
    organization_id: str
    name: str
    npi: str
    line: str
    city: str
    state: str
    postal_code: str
    phone: str
    beds: int


@dataclass(slots=True)
class Demographics:
    given: str
    family: str
    gender: str  # FHIR administrative gender: female | male
    birth_date: str
    line: str
    city: str
    state: str
    postal_code: str
    phone: str
    mrn: str


@dataclass(slots=True)
class ChronicCondition:
    key: str
    concept: Concept
    condition_id: str
    onset: int
    recorded: int  # during the ambulatory visit that diagnosed it
    encounter_id: str


@dataclass(slots=True)
class Infection:
    condition_id: str
    concept: Concept
    onset: int
    recorded: int


@dataclass(slots=True)
class Visit:
    """An ambulatory (AMB) or treat-and-release emergency (EMER) encounter."""

    encounter_id: str
    encounter_class: str
    encounter_type: Concept
    start: int
    end: int
    hospital: int
    reason: Concept | None = None
    condition_id: str | None = None  # EMER: the complaint recorded as a Condition


@dataclass(slots=True)
class Stay:
    """An inpatient (IMP) admission. LOS is in calendar days: discharge date - admission date (>= 1)."""

    encounter_id: str
    start: int
    end: int  # discharge, or death when died
    los_days: int
    emergency: bool
    hospital: int
    reason: Concept
    reason_condition_id: str
    reason_onset: int
    poa_infection: bool
    hai: Infection | None
    died: bool
    disposition: str
    is_readmission: bool
    observation_seed: int

    def finished_before(self, cut: int) -> bool:
        return self.end < cut


@dataclass(slots=True)
class PatientTimeline:
    batch: int
    index: int
    seed: int
    patient_id: str
    demographics: Demographics
    age_years: float
    home_hospital: int
    comorbidities: frozenset[str]
    chronic: list[ChronicCondition] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)  # chronological
    visits: list[Visit] = field(default_factory=list)  # chronological
    death: int | None = None
    death_in_hospital: bool = False
    registered: int = 0  # when the record was created: just before the first encounter
