"""Clinical parameters: the config's requested rates turned into the distributions the simulation samples.

`GeneratorConfig` (fhirpulse/config.py) holds what a user asks for; `ClinicalModel` derives what the simulation
needs so that the *realised* rates match the requested ones in expectation:

- LOS: 1 + negative binomial (mean los_mean_days - 1, shape los_dispersion), capped at los_max_days, sampled
  from a precomputed cumulative table.
- HAI: risk proportional to exposure, P(HAI | LOS) = min(1, c * max(0, LOS - 2)); c is solved so that the
  average over the LOS distribution is exactly hai_probability (stays shorter than 3 days cannot have one).
- Death: P(death | HAI) = RR * P(death | no HAI), scaled so that the overall rate is the requested one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from fhirpulse.core.config import GeneratorConfig
from generator.clock import minute_of_date

# A patient's events after their origin batch's as-of date (readmissions, follow-ups, hospice deaths) are
# simulated up to this far ahead, so later batches can reveal them.
FOLLOW_UP_HORIZON_DAYS = 5 * 366
# The share of readmissions that are emergencies; the rest are elective and, by the KPI's definition
# (docs/kpis.md), no readmission. The requested readmission rate times this is what gold should measure.
READMISSION_EMERGENCY_SHARE = 0.8


class ParameterError(ValueError):
    """Requested parameters that no distribution can realise (e.g. more HAIs than long-enough stays)."""


@dataclass(frozen=True)
class ClinicalModel:
    config: GeneratorConfig
    los_cumulative: tuple[float, ...]  # P(LOS <= i + 1) for i = 0 .. los_max_days - 1
    los_expected_mean: float
    hai_per_exposure_day: float
    death_without_hai: float
    death_with_hai: float
    window_start: int  # first minute index admissions can start

    def batch_as_of(self, batch: int) -> date:
        return batch_as_of(self.config, batch)

    def batch_cut(self, batch: int) -> int:
        """First minute *after* the batch's as-of date: a batch shows what was recorded before it."""
        return minute_of_date(self.batch_as_of(batch) + timedelta(days=1))


def batch_as_of(cfg: GeneratorConfig, batch: int) -> date:
    return cfg.end_date + timedelta(days=(batch - 1) * cfg.batch_interval_days)


def batch_label(cfg: GeneratorConfig, batch: int) -> str:
    """File stem of a batch; the seed is in it so runs with different seeds never overwrite each other."""
    return f"batch-{batch:05d}-seed-{cfg.seed}"


def los_distribution(mean_days: float, dispersion: float, max_days: int) -> list[float]:
    """P(LOS = d) for d = 1..max_days: LOS - 1 ~ negative binomial(mean - 1, shape), the tail lumped on max."""
    mu, k = mean_days - 1.0, dispersion
    pmf = [(k / (k + mu)) ** k]
    for x in range(max_days - 2):
        pmf.append(pmf[-1] * (x + k) / (x + 1) * mu / (k + mu))
    pmf.append(max(0.0, 1.0 - sum(pmf)))
    return pmf


def solve_hai_per_exposure_day(pmf: list[float], hai_probability: float) -> float:
    """c such that sum_d P(LOS=d) * min(1, c * max(0, d - 2)) == hai_probability (bisection; monotone in c)."""
    achievable = sum(p for d, p in enumerate(pmf, start=1) if d >= 3)
    if hai_probability > achievable + 1e-12:
        raise ParameterError(
            f"hai_probability {hai_probability} is above the share of stays long enough for an HAI "
            f"(LOS >= 3 days: {achievable:.3f}); raise los_mean_days or lower hai_probability"
        )

    def marginal(c: float) -> float:
        return sum(p * min(1.0, c * max(0, d - 2)) for d, p in enumerate(pmf, start=1))

    low, high = 0.0, 1.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if marginal(mid) < hai_probability else (low, mid)
    return high


def death_probabilities(death: float, hai: float, relative_risk: float) -> tuple[float, float]:
    """(P(death | no HAI), P(death | HAI)) with the requested overall rate and relative risk."""
    without = death / (1.0 - hai + hai * relative_risk)
    with_hai = relative_risk * without
    if with_hai > 1.0:
        raise ParameterError(
            f"in_hospital_death_probability {death} with hai_death_relative_risk {relative_risk} needs "
            f"P(death | HAI) = {with_hai:.2f} > 1; lower one of them"
        )
    return without, with_hai


def build_model(cfg: GeneratorConfig) -> ClinicalModel:
    pmf = los_distribution(cfg.los_mean_days, cfg.los_dispersion, cfg.los_max_days)
    total = sum(pmf)
    cumulative = tuple(c / total for c in accumulate(pmf))
    without, with_hai = death_probabilities(
        cfg.in_hospital_death_probability, cfg.hai_probability, cfg.hai_death_relative_risk
    )
    return ClinicalModel(
        config=cfg,
        los_cumulative=cumulative,
        los_expected_mean=sum(d * p for d, p in enumerate(pmf, start=1)) / total,
        hai_per_exposure_day=solve_hai_per_exposure_day(pmf, cfg.hai_probability),
        death_without_hai=without,
        death_with_hai=with_hai,
        window_start=minute_of_date(cfg.start_date),
    )
