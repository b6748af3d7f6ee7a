"""Simulate one patient's clinical history from its seed.

Order of events (all UTC minutes):
1. demographics, age, home hospital, chronic comorbidities (each diagnosed at an ambulatory visit before
   start_date);
2. index admissions (Poisson count, uniform over [start_date, origin batch cut)), each at least 31 days after
   the previous discharge so that only simulated readmissions fall inside the 30-day window;
3. after each alive, non-hospice discharge a 30-day readmission with readmission_probability (chains allowed);
   a death in hospital or a hospice discharge (death 1-60 days later) ends the history;
4. follow-up and treat-and-release emergency visits in the free time before death.
Encounters never overlap and none starts after death.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from itertools import accumulate

from faker import Faker

from fhirpulse.core.terminology import (
    ADMISSION_DIAGNOSES,
    AMBULATORY_CLASS,
    CHECKUP_VISIT,
    COMORBIDITIES,
    EMERGENCY_CLASS,
    EMERGENCY_COMPLAINTS,
    EMERGENCY_VISIT,
    EXPIRED,
    FOLLOWUP_VISIT,
    HOSPICE,
    HOSPITAL_ACQUIRED_INFECTIONS,
    POA_INFECTIONS,
    PROBLEM_VISIT,
    Concept,
)
from generator.clock import MINUTES_PER_DAY, day_of, day_start, fhir_date
from generator.ids import new_uuid, patient_seed
from generator.params import FOLLOW_UP_HORIZON_DAYS, READMISSION_EMERGENCY_SHARE, ClinicalModel
from generator.simulation.model import (
    ChronicCondition,
    Demographics,
    Hospital,
    Infection,
    PatientTimeline,
    Stay,
    Visit,
)

_MINUTES_PER_YEAR = 525_960  # 365.25 days
_HOME_HOSPITAL_SHARE = 0.85  # stays at the patient's usual hospital
_INFECTION_FREE_GAP_DAYS = 31  # index admissions start > 30 days after the previous discharge
_MAX_STAYS = 60  # safety bound on readmission chains with extreme parameters


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: exact and fast for the small means used here."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class _Weighted:
    """Weighted choice with precomputed cumulative weights (one random() per draw)."""

    __slots__ = ("items", "cumulative")

    def __init__(self, items_and_weights):
        pairs = [(item, weight) for item, weight in items_and_weights if weight > 0]
        self.items = [item for item, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random):
        return self.items[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


class PatientSimulator:
    """Turns (batch, patient index) into a PatientTimeline; one instance per worker process."""

    def __init__(self, model: ClinicalModel, hospitals: list[Hospital], faker: Faker):
        cfg = model.config
        self.model = model
        self.cfg = cfg
        self.hospitals = hospitals
        self.faker = faker
        self.hospital_choice = _Weighted((i, h.beds) for i, h in enumerate(hospitals))
        self.poa_infections = _Weighted(POA_INFECTIONS)
        self.hais = {
            reason.code: _Weighted((c, w) for c, w in HOSPITAL_ACQUIRED_INFECTIONS if c != reason)
            for reason, _ in POA_INFECTIONS
        }
        self.any_hai = _Weighted(HOSPITAL_ACQUIRED_INFECTIONS)
        self.dispositions = _Weighted(cfg.discharge_disposition_weights.items())
        self.dispositions_elderly = _Weighted(
            (code, weight * (2.0 if code == "snf" else 1.0)) for code, weight in cfg.discharge_disposition_weights.items()
        )
        self._diagnosis_choices: dict[frozenset[str], _Weighted] = {}

    # --- patient -------------------------------------------------------------------------------------------
    def simulate(self, batch: int, index: int) -> PatientTimeline:
        seed = patient_seed(self.cfg.seed, batch, index)
        rng = random.Random(seed)
        self.faker.seed_instance(seed)
        origin_cut = self.model.batch_cut(batch)
        patient_id = new_uuid(rng)
        gender = "female" if rng.random() < 0.52 else "male"
        age = min(100.0, max(18.0, rng.gauss(self.cfg.age_mean, self.cfg.age_sd)))
        birth = self.model.window_start - int(age * _MINUTES_PER_YEAR) - rng.randrange(MINUTES_PER_DAY)
        timeline = PatientTimeline(
            batch=batch, index=index, seed=seed, patient_id=patient_id,
            demographics=self._demographics(rng, gender, birth),
            age_years=age,
            home_hospital=self.hospital_choice.draw(rng),
            comorbidities=frozenset(),
        )
        busy: list[tuple[int, int]] = []
        self._add_chronic_conditions(rng, timeline, birth, busy)
        self._add_stays(rng, timeline, origin_cut, busy)
        self._add_followups(rng, timeline, busy)
        self._add_emergency_visits(rng, timeline, origin_cut, busy)
        if not timeline.stays and not timeline.visits:
            self._add_checkup(rng, timeline, origin_cut, busy)
        timeline.visits.sort(key=lambda v: v.start)
        first = min([s.start for s in timeline.stays] + [v.start for v in timeline.visits])
        timeline.registered = first - 10
        return timeline

    def _demographics(self, rng: random.Random, gender: str, birth: int) -> Demographics:
        fake = self.faker
        given = fake.first_name_female() if gender == "female" else fake.first_name_male()
        return Demographics(
            given=given, family=fake.last_name(), gender=gender, birth_date=fhir_date(birth),
            line=fake.street_address(), city=fake.city(), state=fake.state_abbr(), postal_code=fake.postcode(),
            phone=fake.phone_number(), mrn=f"MRN{rng.randrange(10**9):09d}",
        )

    def _hospital_for_stay(self, rng: random.Random, timeline: PatientTimeline) -> int:
        if rng.random() < _HOME_HOSPITAL_SHARE:
            return timeline.home_hospital
        return rng.randrange(len(self.hospitals))

    # --- chronic comorbidities -----------------------------------------------------------------------------
    def _add_chronic_conditions(self, rng, timeline: PatientTimeline, birth: int, busy) -> None:
        first_day = day_of(self.model.window_start)
        adult_day = day_of(birth) + 18 * 366
        keys = []
        for key, prevalence in self.cfg.comorbidity_prevalence.items():
            # Older patients carry more comorbidities; scaling by age / mean age keeps the mean prevalence.
            if rng.random() >= min(1.0, prevalence * timeline.age_years / self.cfg.age_mean):
                continue
            latest = first_day - 30
            earliest = min(max(adult_day, first_day - 20 * 365), latest - 1)
            visit_day = rng.randint(earliest, latest)
            start = day_start(visit_day) + 8 * 60 + rng.randrange(9 * 60)
            while _overlaps(busy, start, start + 40):
                start -= MINUTES_PER_DAY
            end = start + 20 + rng.randrange(20)
            busy.append((start, end))
            recorded = start + 15
            onset = max(birth + MINUTES_PER_DAY, recorded - rng.randrange(365) * MINUTES_PER_DAY)
            visit = Visit(
                encounter_id=new_uuid(rng), encounter_class=AMBULATORY_CLASS, encounter_type=PROBLEM_VISIT,
                start=start, end=end, hospital=timeline.home_hospital, reason=COMORBIDITIES[key],
            )
            timeline.visits.append(visit)
            timeline.chronic.append(ChronicCondition(
                key=key, concept=COMORBIDITIES[key], condition_id=new_uuid(rng), onset=onset,
                recorded=recorded, encounter_id=visit.encounter_id,
            ))
            keys.append(key)
        timeline.comorbidities = frozenset(keys)

    # --- inpatient stays -----------------------------------------------------------------------------------
    def _add_stays(self, rng, timeline: PatientTimeline, origin_cut: int, busy) -> None:
        cfg = self.cfg
        count = poisson(rng, cfg.admissions_per_patient)
        starts = sorted(rng.randrange(self.model.window_start, origin_cut) for _ in range(count))
        horizon = origin_cut + FOLLOW_UP_HORIZON_DAYS * MINUTES_PER_DAY
        earliest_index = self.model.window_start
        for start in starts:
            if timeline.death is not None or len(timeline.stays) >= _MAX_STAYS:
                break
            if start < earliest_index:
                start = earliest_index + rng.randrange(30 * MINUTES_PER_DAY)
            if start >= origin_cut:
                break  # index admissions happen before the origin batch's cut; later events are follow-ups
            emergency = rng.random() < cfg.emergency_admission_fraction
            stay = self._stay(rng, timeline, _admission_minute(rng, day_of(start), emergency), emergency, False)
            while True:
                timeline.stays.append(stay)
                busy.append((stay.start, stay.end))
                if stay.died:
                    timeline.death, timeline.death_in_hospital = stay.end, True
                    break
                if stay.disposition == HOSPICE:  # hospice: dies outside hospital, no further encounters
                    timeline.death = stay.end + rng.randint(1, 60) * MINUTES_PER_DAY + rng.randrange(MINUTES_PER_DAY)
                    break
                if rng.random() >= cfg.readmission_probability or len(timeline.stays) >= _MAX_STAYS:
                    break
                # Readmission: 1..30 days after the discharge date, earlier days likelier.
                gap_days = 1 + int(30 * rng.random() ** 1.6)
                readmit_day = day_of(stay.end) + gap_days
                if day_start(readmit_day) >= horizon:
                    break
                emergency = rng.random() < READMISSION_EMERGENCY_SHARE
                stay = self._stay(rng, timeline, _admission_minute(rng, readmit_day, emergency), emergency, True)
            earliest_index = day_start(day_of(timeline.stays[-1].end) + _INFECTION_FREE_GAP_DAYS)

    def _stay(self, rng, timeline: PatientTimeline, start: int, emergency: bool, readmission: bool) -> Stay:
        model, cfg = self.model, self.cfg
        los = min(cfg.los_max_days, bisect_right(model.los_cumulative, rng.random()) + 1)
        admit_day = day_of(start)
        poa = rng.random() < cfg.poa_infection_probability
        reason = self.poa_infections.draw(rng) if poa else self._diagnoses(timeline.comorbidities).draw(rng)
        # Present on admission: onset earlier the same day (hospital day 1), up to 6 hours before arrival.
        reason_onset = start - rng.randrange(min(start - day_start(admit_day), 360) + 1)
        hai = None
        if rng.random() < min(1.0, model.hai_per_exposure_day * max(0, los - 2)):
            # Hospital-acquired: onset on hospital day 3 .. the day before discharge (day 1 = admission date).
            onset = day_start(admit_day + rng.randint(2, los - 1)) + rng.randrange(MINUTES_PER_DAY)
            choices = self.hais[reason.code] if poa else self.any_hai
            hai = Infection(condition_id="", concept=choices.draw(rng), onset=onset, recorded=onset)
        died = rng.random() < (model.death_with_hai if hai else model.death_without_hai)
        discharge_day = admit_day + los
        if died:
            end = day_start(discharge_day) + rng.randrange(MINUTES_PER_DAY)
            disposition = EXPIRED
        else:
            end = day_start(discharge_day) + 10 * 60 + rng.randrange(8 * 60)  # discharges happen 10:00-18:00
            choice = self.dispositions_elderly if timeline.age_years >= 75 else self.dispositions
            disposition = choice.draw(rng)
        encounter_id, reason_condition_id = new_uuid(rng), new_uuid(rng)
        if hai is not None:
            hai.condition_id = new_uuid(rng)
            hai.recorded = min(hai.onset + 60, end - 1)
        return Stay(
            encounter_id=encounter_id, start=start, end=end, los_days=los, emergency=emergency,
            hospital=self._hospital_for_stay(rng, timeline), reason=reason,
            reason_condition_id=reason_condition_id, reason_onset=reason_onset, poa_infection=poa, hai=hai,
            died=died, disposition=disposition, is_readmission=readmission, observation_seed=rng.getrandbits(64),
        )

    def _diagnoses(self, comorbidities: frozenset[str]) -> _Weighted:
        choice = self._diagnosis_choices.get(comorbidities)
        if choice is None:
            weights = []
            for diagnosis in ADMISSION_DIAGNOSES:
                if diagnosis.requires is not None and diagnosis.requires not in comorbidities:
                    continue
                weight = diagnosis.weight
                for key, factor in diagnosis.boosts:
                    if key in comorbidities:
                        weight *= factor
                weights.append((diagnosis.concept, weight))
            choice = self._diagnosis_choices[comorbidities] = _Weighted(weights)
        return choice

    # --- visits --------------------------------------------------------------------------------------------
    def _add_followups(self, rng, timeline: PatientTimeline, busy) -> None:
        for stay in list(timeline.stays):
            if stay.died or stay.disposition == HOSPICE or rng.random() >= self.cfg.followup_visit_probability:
                continue
            start = day_start(day_of(stay.end) + rng.randint(7, 14)) + 8 * 60 + rng.randrange(8 * 60)
            self._try_visit(rng, timeline, busy, AMBULATORY_CLASS, FOLLOWUP_VISIT, start, 20 + rng.randrange(25),
                            stay.hospital, stay.reason)

    def _add_emergency_visits(self, rng, timeline: PatientTimeline, origin_cut: int, busy) -> None:
        for _ in range(poisson(rng, self.cfg.ed_visits_per_patient)):
            start = rng.randrange(self.model.window_start, origin_cut)
            complaint = EMERGENCY_COMPLAINTS[rng.randrange(len(EMERGENCY_COMPLAINTS))]
            hospital = self._hospital_for_stay(rng, timeline)
            self._try_visit(rng, timeline, busy, EMERGENCY_CLASS, EMERGENCY_VISIT, start, 120 + rng.randrange(360),
                            hospital, complaint, with_condition=True)

    def _add_checkup(self, rng, timeline: PatientTimeline, origin_cut: int, busy) -> None:
        """Every patient has at least one encounter (a record exists because the patient was seen)."""
        start = day_start(day_of(rng.randrange(self.model.window_start, origin_cut))) + 8 * 60 + rng.randrange(480)
        self._try_visit(rng, timeline, busy, AMBULATORY_CLASS, CHECKUP_VISIT, start, 30, timeline.home_hospital, None)

    def _try_visit(self, rng, timeline, busy, encounter_class: str, encounter_type: Concept, start: int,
                   minutes: int, hospital: int, reason: Concept | None, with_condition: bool = False) -> None:
        end = start + minutes
        encounter_id = new_uuid(rng)
        condition_id = new_uuid(rng) if with_condition else None
        if (timeline.death is not None and end >= timeline.death) or _overlaps(busy, start, end):
            return
        busy.append((start, end))
        timeline.visits.append(Visit(
            encounter_id=encounter_id, encounter_class=encounter_class, encounter_type=encounter_type,
            start=start, end=end, hospital=hospital, reason=reason, condition_id=condition_id,
        ))


def _admission_minute(rng: random.Random, day: int, emergency: bool) -> int:
    """Emergency admissions arrive around the clock; elective ones 07:00-11:00."""
    if emergency:
        return day_start(day) + rng.randrange(MINUTES_PER_DAY)
    return day_start(day) + 7 * 60 + rng.randrange(4 * 60)


def _overlaps(busy: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < b_end and end > b_start for b_start, b_end in busy)
