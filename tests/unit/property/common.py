"""Shared settings of the property tests: every example runs a tiny Spark job, so example counts are small.

`FHIRPULSE_PROPERTY_SCALE=10` (an environment variable) multiplies every count, for a longer hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("FHIRPULSE_PROPERTY_SCALE", "1"))


def budget(max_examples: int) -> settings:
    """Settings for a property whose examples each run a Spark job: no deadline, no too-slow check."""
    return settings(max_examples=max(1, int(max_examples * SCALE)), deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
