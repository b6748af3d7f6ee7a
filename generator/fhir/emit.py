"""What a batch shows of a patient's timeline: visibility at a cut, versions, and update batches.

Every resource version has a record time, and `meta.lastUpdated` is that time:
- Encounter: `period.start` (in-progress), then `period.end` (finished, with end, length, disposition);
- Condition: recorded (admission reason = admission time; HAI = onset + 1 h), then the discharge when the
  patient leaves alive (clinicalStatus resolved, abatementDateTime); chronic conditions never change;
- Observation: `issued`; Patient: registration, then death (deceasedDateTime), then administrative changes.
A batch with cut C shows the latest version recorded before C. An update batch re-emits, for the patients it
picks, every resource whose shown version was recorded at or after the patient's origin cut (so it changed or
appeared since the patient was first emitted), plus an administrative change (new phone, sometimes a new
address) and sometimes an amended lab result, both recorded just before C. Ids never change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from faker import Faker

from generator.fhir import resources
from generator.fhir.resources import reference
from generator.ids import derive_seed
from generator.params import ClinicalModel
from generator.simulation.model import Hospital, PatientTimeline, Stay, Visit
from generator.simulation.observations import Reading, stay_readings

_AMENDED_LAB_SHARE = 0.5  # of updated patients with an earlier lab result
_ADDRESS_CHANGE_SHARE = 0.3  # of updated (alive) patients


@dataclass(frozen=True, slots=True)
class PatientChange:
    """Changes an update batch records for one re-emitted patient (drawn from the update's own seed)."""

    recorded: int  # just before the update batch's cut, after the previous batch's cut
    phone: str
    address: tuple[str, str, str, str] | None
    amend_lab: bool
    amend_factor: float


def draw_patient_change(faker: Faker, seed: int, batch: int, timeline: PatientTimeline, cut: int,
                        interval_minutes: int) -> PatientChange:
    change_seed = derive_seed("update", seed, batch, timeline.batch, timeline.index)
    rng = random.Random(change_seed)
    faker.seed_instance(change_seed)
    recorded = cut - 1 - rng.randrange(max(1, interval_minutes // 2))
    phone = faker.phone_number()
    address = None
    if rng.random() < _ADDRESS_CHANGE_SHARE:
        address = (faker.street_address(), faker.city(), faker.state_abbr(), faker.postcode())
    return PatientChange(recorded=recorded, phone=phone, address=address,
                         amend_lab=rng.random() < _AMENDED_LAB_SHARE, amend_factor=rng.uniform(0.85, 1.15))


class Emitter:
    """Builds the FHIR dicts of one patient as shown by one batch."""

    def __init__(self, model: ClinicalModel, hospitals: list[Hospital]):
        self.model = model
        self.hospitals = hospitals
        self.vitals_per_day = model.config.vitals_per_day
        self.labs_per_day = model.config.labs_per_day

    def patient_resources(self, timeline: PatientTimeline, cut: int, since: int | None = None,
                          change: PatientChange | None = None) -> Iterator[dict]:
        """All resources shown at `cut`; with `since`, only those recorded at or after it (an update)."""
        def changed(last_updated: int) -> bool:
            return since is None or last_updated >= since

        patient, patient_recorded = self._patient(timeline, cut, change)
        if changed(patient_recorded):
            yield patient
        subject = reference("Patient", timeline.patient_id)
        chronic_by_visit = {c.encounter_id: c for c in timeline.chronic}
        latest_lab: tuple[Reading, Stay] | None = None
        for event in _chronological(timeline):
            if event.start >= cut:
                break
            if isinstance(event, Stay):
                yield from self._stay(timeline, event, subject, cut, since, changed)
                if change is not None and change.amend_lab and event.start < (since or cut):
                    latest_lab = _latest_lab(self._readings(timeline, event), since, cut, event) or latest_lab
            else:
                yield from self._visit(event, subject, cut, changed, chronic_by_visit.get(event.encounter_id))
        if latest_lab is not None:
            reading, stay = latest_lab
            yield self._amended(reading, stay, subject, change)

    # --- resources -----------------------------------------------------------------------------------------
    def _patient(self, timeline: PatientTimeline, cut: int, change: PatientChange | None) -> tuple[dict, int]:
        people = timeline.demographics
        recorded = timeline.registered
        deceased_at = timeline.death if timeline.death is not None and timeline.death < cut else None
        if deceased_at is not None:
            recorded = max(recorded, deceased_at)
        phone, address = people.phone, (people.line, people.city, people.state, people.postal_code)
        if change is not None and (timeline.death is None or timeline.death > change.recorded):
            phone, address = change.phone, change.address or address  # the living change phones and move
            recorded = max(recorded, change.recorded)
        hospital = self.hospitals[timeline.home_hospital]
        return resources.patient(timeline, hospital, recorded, deceased_at, phone, address), recorded

    def _stay(self, timeline: PatientTimeline, stay: Stay, subject: dict, cut: int, since: int | None,
              changed) -> Iterator[dict]:
        finished = stay.end < cut
        recorded = stay.end if finished else stay.start
        encounter = reference("Encounter", stay.encounter_id)
        if changed(recorded):
            yield resources.inpatient_encounter(stay, subject, self.hospitals[stay.hospital], finished,
                                                recorded)
        resolved_at = stay.end if finished and not stay.died else None
        reason_recorded = resolved_at or stay.start
        if changed(reason_recorded):
            yield resources.condition(stay.reason_condition_id, stay.reason, "encounter-diagnosis", subject,
                                      encounter, stay.reason_onset, stay.start, resolved_at, reason_recorded)
        hai = stay.hai
        if hai is not None and hai.recorded < cut:
            hai_recorded = resolved_at or hai.recorded
            if changed(hai_recorded):
                yield resources.condition(hai.condition_id, hai.concept, "encounter-diagnosis", subject, encounter,
                                          hai.onset, hai.recorded, resolved_at, hai_recorded)
        if changed(stay.end + 24 * 60):  # readings are issued at most a few hours after the stay ends
            earliest = -1 if since is None else since  # (the hot loop of the generator: no closure calls)
            observation = resources.observation
            for reading in self._readings(timeline, stay):
                if earliest <= reading.issued < cut:
                    yield observation(reading, subject, encounter)

    def _visit(self, visit: Visit, subject: dict, cut: int, changed, chronic) -> Iterator[dict]:
        finished = visit.end < cut
        recorded = visit.end if finished else visit.start
        encounter = reference("Encounter", visit.encounter_id)
        if changed(recorded):
            yield resources.visit_encounter(visit, subject, self.hospitals[visit.hospital], finished,
                                            recorded)
        if visit.condition_id is not None:  # emergency complaint: resolved when the patient goes home
            resolved_at = visit.end if finished else None
            complaint_recorded = resolved_at or visit.start
            if changed(complaint_recorded):
                yield resources.condition(visit.condition_id, visit.reason, "encounter-diagnosis", subject,
                                          encounter, visit.start, visit.start, resolved_at, complaint_recorded)
        if chronic is not None and chronic.recorded < cut and changed(chronic.recorded):
            yield resources.condition(chronic.condition_id, chronic.concept, "problem-list-item", subject,
                                      encounter, chronic.onset, chronic.recorded, None, chronic.recorded)

    def _readings(self, timeline: PatientTimeline, stay: Stay) -> Iterator[Reading]:
        return stay_readings(timeline, stay, self.vitals_per_day, self.labs_per_day)

    def _amended(self, reading: Reading, stay: Stay, subject: dict, change: PatientChange) -> dict:
        """A corrected lab value: same id, status 'amended', recorded with the patient change."""
        is_decimal = isinstance(reading.value, float)
        value = round(reading.value * change.amend_factor, 2 if is_decimal else None)
        if value == reading.value:  # a correction always changes the value
            value = round(value + (0.1 if is_decimal else 1), 2)
        corrected = reading._replace(value=value)
        return resources.observation(corrected, subject, reference("Encounter", stay.encounter_id),
                                     status="amended", last_updated=change.recorded)


def _chronological(timeline: PatientTimeline) -> list[Stay | Visit]:
    return sorted([*timeline.stays, *timeline.visits], key=lambda event: event.start)


def _latest_lab(readings: Iterator[Reading], since: int | None, cut: int, stay: Stay
                ) -> tuple[Reading, Stay] | None:
    """The last lab result shown before the update (issued before `since`), if any."""
    limit = since if since is not None else cut
    latest = None
    for reading in readings:
        if reading.category == "laboratory" and reading.issued < limit:
            latest = reading
    return (latest, stay) if latest is not None else None
