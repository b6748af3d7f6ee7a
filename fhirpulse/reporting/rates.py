"""What the generator's requested parameters predict for each gold KPI, with a tolerance.

The generator draws events per admission with the configured probabilities; gold measures them under the
definitions of docs/kpis.md, which differ in known ways (stated below, next to each KPI). A KPI is
`within` when it is inside 4 binomial standard errors on gold's own denominator (plus what is stated).
"""

from __future__ import annotations

from math import sqrt

from fhirpulse.core import terminology
from fhirpulse.core.config import GeneratorConfig
from generator.params import READMISSION_EMERGENCY_SHARE


def _check(name: str, observed: float | None, expected: float, n: int, extra: float = 0.0) -> dict:
    tolerance = 4 * sqrt(expected * (1 - expected) / n) + extra if n else None
    within = observed is not None and tolerance is not None and abs(observed - expected) <= tolerance
    return {"kpi": name, "observed": observed, "expected": round(expected, 4),
            "tolerance": None if tolerance is None else round(tolerance, 4), "within": within}


def requested_rates(kpis: dict, params: GeneratorConfig) -> list[dict]:
    """One check per KPI: observed (gold), expected (from the generator's parameters), tolerance, within."""
    # HAI: requested per admission, only stays of 2+ days can have one, so gold's denominator (stays of 2+
    # days) concentrates it; an HAI whose code was also present on admission is excluded by definition.
    poa = dict((c.code, w) for c, w in terminology.POA_INFECTIONS)
    same_code = sum(w * poa.get(c.code, 0.0) for c, w in terminology.HOSPITAL_ACQUIRED_INFECTIONS)
    hai_expected = (params.hai_probability * kpis["stays"] / kpis["hai_denominator"]
                    * (1 - params.poa_infection_probability * same_code)
                    if kpis["hai_denominator"] else params.hai_probability)
    los_within = kpis["alos_days"] is not None and abs(kpis["alos_days"] - params.los_mean_days) <= 0.3
    return [
        _check("mortality_rate", kpis["mortality_rate"], params.in_hospital_death_probability, kpis["stays"]),
        _check("hai_rate", kpis["hai_rate"], hai_expected, kpis["hai_denominator"]),
        # Elective readmissions do not count; a readmission on day 30 later in the day than the discharge
        # falls outside (end, end + 30 days]: allow 0.005 for that.
        _check("readmission_rate", kpis["readmission_rate"],
               params.readmission_probability * READMISSION_EMERGENCY_SHARE, kpis["readmission_index"], extra=0.005),
        {"kpi": "alos_days", "observed": kpis["alos_days"], "expected": params.los_mean_days, "tolerance": 0.3,
         "within": los_within,
         "note": "LOS is requested in calendar days; gold measures the period (admission and discharge hours)"},
    ]
