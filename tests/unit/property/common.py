"""Shared settings of the property tests: every example runs a tiny Spark job, so example counts are small.

Two Hypothesis profiles, chosen by `FHIRPULSE_HYPOTHESIS_PROFILE` (an environment variable):

- `fixed` (the default; `make test` and CI): derandomized, the examples derived from each test's source, no
  example database: every run of the same code tests the same examples, so the suite is repeatable;
- `hunt` (`make test-all`): random examples, failures saved in `.hypothesis/` and replayed first next time;
  reproduce a reported failure with `--hypothesis-seed=<seed>` (ignored under `fixed`).

`FHIRPULSE_PROPERTY_SCALE=10` (an environment variable) multiplies every count, for a longer hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("FHIRPULSE_PROPERTY_SCALE", "1"))
PROFILE_VAR = "FHIRPULSE_HYPOTHESIS_PROFILE"
PROFILES = ("fixed", "hunt")

settings.register_profile("fixed", derandomize=True, database=None, print_blob=True)
settings.register_profile("hunt", derandomize=False, print_blob=True)


def profile_name() -> str:
    name = os.environ.get(PROFILE_VAR) or "fixed"
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_VAR}={name!r}: expected one of {', '.join(PROFILES)}")
    return name


def budget(max_examples: int) -> settings:
    """Settings for a property whose examples each run a Spark job: no deadline, no too-slow check."""
    return settings(settings.get_profile(profile_name()), max_examples=max(1, int(max_examples * SCALE)),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                          HealthCheck.function_scoped_fixture])
