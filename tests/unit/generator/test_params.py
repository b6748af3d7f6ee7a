"""Requested parameters -> distributions: exact means, infeasible requests rejected, config bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from generator.params import (
    ParameterError,
    build_model,
    death_probabilities,
    los_distribution,
    solve_hai_per_exposure_day,
)
from tests.unit.generator.testkit import generator_config


def test_los_distribution_has_the_requested_mean_and_respects_the_cap():
    pmf = los_distribution(5.0, 1.5, 90)
    assert len(pmf) == 90 and abs(sum(pmf) - 1) < 1e-9
    assert abs(sum(d * p for d, p in enumerate(pmf, start=1)) - 5.0) < 0.01
    capped = los_distribution(20.0, 0.5, 10)
    assert len(capped) == 10 and capped[-1] > 0.3  # the long tail is lumped on the cap


def test_hai_coefficient_gives_the_requested_marginal_rate():
    pmf = los_distribution(5.0, 1.5, 90)
    c = solve_hai_per_exposure_day(pmf, 0.05)
    marginal = sum(p * min(1.0, c * max(0, d - 2)) for d, p in enumerate(pmf, start=1))
    assert abs(marginal - 0.05) < 1e-9


def test_more_hais_than_long_enough_stays_is_rejected():
    pmf = los_distribution(2.0, 1.5, 90)  # most stays end before hospital day 3
    with pytest.raises(ParameterError, match="hai_probability"):
        solve_hai_per_exposure_day(pmf, 0.6)


def test_death_risk_split_keeps_the_overall_rate():
    without, with_hai = death_probabilities(0.03, 0.05, 2.5)
    assert abs(0.95 * without + 0.05 * with_hai - 0.03) < 1e-12 and abs(with_hai / without - 2.5) < 1e-12
    with pytest.raises(ParameterError):
        death_probabilities(0.6, 0.1, 10)  # P(death | HAI) would be 3.2


def test_model_of_the_default_config_and_batch_dates():
    model = build_model(generator_config())
    assert str(model.batch_as_of(1)) == "2024-12-31" and str(model.batch_as_of(3)) == "2025-01-14"
    assert model.batch_cut(2) - model.batch_cut(1) == 7 * 1440


@pytest.mark.parametrize("override", [
    {"hai_probability": 1.5}, {"los_mean_days": 0.5}, {"end_date": "2023-01-15"},
    {"comorbidity_prevalence": {"gout": 0.1}}, {"discharge_disposition_weights": {"exp": 1.0}},
    {"s3_part_size_mb": 1},
])
def test_config_bounds_reject_nonsense(override):
    with pytest.raises(ValidationError):
        generator_config(**override)
