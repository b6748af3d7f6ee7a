"""Simulation time: whole minutes since 1970-01-01T00:00Z, and their FHIR text.

Integers keep the simulation exact and fast (no datetime objects per event); formatting caches the date part
because one day's string is reused by hundreds of observations. Everything is UTC ('Z'), so a hospital day is
a UTC calendar day.
"""

from __future__ import annotations

from datetime import date, timedelta

MINUTES_PER_DAY = 1440
_EPOCH = date(1970, 1, 1)
_DAY_TEXT: dict[int, str] = {}
_CLOCK_TEXT = tuple(f"T{m // 60:02d}:{m % 60:02d}:00Z" for m in range(1440))  # minute of day -> time part


def day_of(minute: int) -> int:
    return minute // MINUTES_PER_DAY


def day_start(day: int) -> int:
    return day * MINUTES_PER_DAY


def minute_of_date(value: date) -> int:
    """The first minute of a calendar date."""
    return (value - _EPOCH).days * MINUTES_PER_DAY


def date_text(day: int) -> str:
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = (_EPOCH + timedelta(days=day)).isoformat()
    return text


def fhir_datetime(minute: int) -> str:
    """FHIR dateTime/instant text, e.g. '2024-03-05T14:07:00Z'."""
    day, rest = divmod(minute, MINUTES_PER_DAY)
    text = _DAY_TEXT.get(day)
    if text is None:
        text = date_text(day)
    return text + _CLOCK_TEXT[rest]


def fhir_date(minute: int) -> str:
    return date_text(minute // MINUTES_PER_DAY)
