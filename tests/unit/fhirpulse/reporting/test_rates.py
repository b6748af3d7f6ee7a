"""The generator's requested rates beside gold's KPIs: inside the tolerance or not."""

from fhirpulse.core.config import load_config
from fhirpulse.reporting.rates import requested_rates


def _kpis(**rates) -> dict:
    base = {"stays": 4000, "deaths": 120, "mortality_rate": 0.03, "readmission_index": 3000, "readmissions": 300,
            "readmission_rate": 0.1, "hai_denominator": 3000, "hai_stays": 200, "hai_rate": 0.066,
            "alos_days": 5.0}
    return base | rates


def test_rates_near_the_request_are_within_and_far_ones_are_not():
    g = load_config("local").generator
    checks = {c["kpi"]: c for c in requested_rates(_kpis(), g)}
    assert checks["mortality_rate"]["expected"] == g.in_hospital_death_probability
    assert checks["mortality_rate"]["within"] and checks["alos_days"]["within"]
    far = {c["kpi"]: c for c in requested_rates(_kpis(mortality_rate=0.09, alos_days=7.0), g)}
    assert not far["mortality_rate"]["within"] and not far["alos_days"]["within"]


def test_an_empty_denominator_is_never_within():
    g = load_config("local").generator
    checks = {c["kpi"]: c for c in requested_rates(_kpis(stays=0, mortality_rate=None, hai_denominator=0,
                                                         hai_rate=None, alos_days=None), g)}
    assert checks["mortality_rate"]["within"] is False and checks["mortality_rate"]["tolerance"] is None
    assert checks["hai_rate"]["within"] is False and checks["alos_days"]["within"] is False
