"""Vital signs and lab results during an inpatient stay, consistent with the patient's state.

Readings are drawn from the stay's own seed, so they replay identically whatever the batch cut. Values follow
the clinical picture: an active infection (3 days from onset) means fever, tachycardia, tachypnoea, lower
SpO2, leukocytosis and high CRP (plus lactate in sepsis); CKD raises creatinine and lowers haemoglobin;
diabetes raises glucose; hypertension raises blood pressure; the last day before an in-hospital death shows
deterioration.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import NamedTuple

from fhirpulse.core.terminology import (
    BODY_TEMPERATURE,
    C_REACTIVE_PROTEIN,
    CREATININE,
    GLUCOSE,
    HEART_RATE,
    HEMOGLOBIN,
    LACTATE,
    LEUKOCYTES,
    OXYGEN_SATURATION,
    RESPIRATORY_RATE,
    SEPSIS,
    SODIUM,
    Measure,
)
from generator.clock import MINUTES_PER_DAY, day_of, day_start
from generator.ids import new_uuid
from generator.simulation.model import PatientTimeline, Stay

_INFECTION_ACTIVE_MINUTES = 3 * MINUTES_PER_DAY  # until antibiotics take effect


class Reading(NamedTuple):
    observation_id: str
    category: str  # vital-signs | laboratory
    measure: Measure | None  # None = blood pressure panel (value = systolic, value2 = diastolic)
    effective: int
    issued: int
    value: float
    value2: float = 0.0


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class _State:
    """What drives values at a given minute of the stay."""

    __slots__ = ("windows", "died_after", "ckd", "diabetes", "hypertension", "female")

    def __init__(self, timeline: PatientTimeline, stay: Stay):
        self.windows: list[tuple[int, int, bool]] = []  # (from, to, is_sepsis)
        if stay.poa_infection:
            self.windows.append((stay.reason_onset, stay.reason_onset + _INFECTION_ACTIVE_MINUTES,
                                 stay.reason == SEPSIS))
        if stay.hai is not None:
            self.windows.append((stay.hai.onset, stay.hai.onset + _INFECTION_ACTIVE_MINUTES,
                                 stay.hai.concept == SEPSIS))
        self.died_after = stay.end - MINUTES_PER_DAY if stay.died else None
        self.ckd = "ckd" in timeline.comorbidities
        self.diabetes = "diabetes" in timeline.comorbidities
        self.hypertension = "hypertension" in timeline.comorbidities
        self.female = timeline.demographics.gender == "female"

    def infection(self, minute: int) -> tuple[bool, bool]:
        infected = sepsis = False
        for start, end, is_sepsis in self.windows:
            if start <= minute < end:
                infected, sepsis = True, sepsis or is_sepsis
        return infected, sepsis

    def dying(self, minute: int) -> bool:
        return self.died_after is not None and minute >= self.died_after


def stay_readings(timeline: PatientTimeline, stay: Stay, vitals_per_day: int, labs_per_day: int) -> Iterator[Reading]:
    rng = random.Random(stay.observation_seed)
    state = _State(timeline, stay)
    if vitals_per_day:
        yield from _vital_rounds(rng, stay, state, MINUTES_PER_DAY // vitals_per_day)
    if labs_per_day:
        yield from _lab_panels(rng, stay, state, labs_per_day)


def _vital_rounds(rng: random.Random, stay: Stay, state: _State, interval: int) -> Iterator[Reading]:
    gauss = rng.gauss
    minute = stay.start + 15 + rng.randrange(30)
    while minute < stay.end:
        infected, _ = state.infection(minute)
        dying = state.dying(minute)
        heart = gauss(104, 12) if infected else gauss(78, 10)
        resp = gauss(22, 3) if infected else gauss(16, 2)
        temp = gauss(38.6, 0.45) if infected else gauss(36.9, 0.3)
        spo2 = gauss(93, 2.5) if infected else gauss(97, 1.3)
        systolic = gauss(138 if state.hypertension else 124, 14)
        if dying:
            heart, resp, spo2, systolic = heart + 22, resp + 6, spo2 - 7, systolic - 25
        diastolic = systolic * 0.62 + gauss(0, 6)
        issued = minute + 2 + rng.randrange(15)
        yield Reading(new_uuid(rng), "vital-signs", HEART_RATE, minute, issued, round(_clip(heart, 35, 190)))
        yield Reading(new_uuid(rng), "vital-signs", RESPIRATORY_RATE, minute, issued, round(_clip(resp, 8, 45)))
        yield Reading(new_uuid(rng), "vital-signs", BODY_TEMPERATURE, minute, issued,
                      round(_clip(temp, 34.5, 41.5), 1))
        yield Reading(new_uuid(rng), "vital-signs", OXYGEN_SATURATION, minute, issued, round(_clip(spo2, 70, 100)))
        yield Reading(new_uuid(rng), "vital-signs", None, minute, issued, round(_clip(systolic, 70, 220)),
                      round(_clip(diastolic, 35, 130)))
        minute += interval - 20 + rng.randrange(41)


def _lab_panels(rng: random.Random, stay: Stay, state: _State, per_day: int) -> Iterator[Reading]:
    gauss = rng.gauss
    spacing = MINUTES_PER_DAY // per_day
    # First panel on arrival, then morning rounds (05:00-07:00) every day of the stay.
    times = [stay.start + 45 + rng.randrange(60)]
    for day in range(day_of(stay.start) + 1, day_of(stay.end) + 1):
        for slot in range(per_day):
            times.append(day_start(day) + 300 + slot * spacing + rng.randrange(120))
    for minute in times:
        if minute >= stay.end:
            break
        infected, sepsis = state.infection(minute)
        issued = minute + 45 + rng.randrange(120)
        wbc = gauss(15.5, 4) if infected else gauss(7.4, 1.8)
        hemoglobin = gauss(11.0 if state.ckd else (12.8 if state.female else 14.2), 1.2)
        creatinine = gauss(2.2, 0.6) if state.ckd else gauss(0.9, 0.18)
        glucose = gauss(170, 45) if state.diabetes else gauss(102, 14)
        sodium = gauss(139, 3)
        crp = gauss(130, 50) if infected else gauss(6, 4)
        yield Reading(new_uuid(rng), "laboratory", LEUKOCYTES, minute, issued, round(_clip(wbc, 1.0, 45.0), 1))
        yield Reading(new_uuid(rng), "laboratory", HEMOGLOBIN, minute, issued, round(_clip(hemoglobin, 5, 19), 1))
        yield Reading(new_uuid(rng), "laboratory", CREATININE, minute, issued, round(_clip(creatinine, 0.3, 9), 2))
        yield Reading(new_uuid(rng), "laboratory", GLUCOSE, minute, issued, round(_clip(glucose, 45, 600)))
        yield Reading(new_uuid(rng), "laboratory", SODIUM, minute, issued, round(_clip(sodium, 118, 160)))
        yield Reading(new_uuid(rng), "laboratory", C_REACTIVE_PROTEIN, minute, issued, round(_clip(crp, 0.3, 350), 1))
        if sepsis:
            yield Reading(new_uuid(rng), "laboratory", LACTATE, minute, issued, round(_clip(gauss(3.4, 1.1), 0.5, 15), 1))
