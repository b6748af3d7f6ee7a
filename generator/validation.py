"""Validate a sample of the output against fhir.resources' R4B models.

The default `fhir.resources` models are R5; `fhir.resources.R4B` is the R4-compatible set (R4B changed no
resource the generator emits). Full validation is 20-100x slower than generating, hence the sample.
"""

from __future__ import annotations

import random
from functools import cache

from fhirpulse.core.errors import validation_problems
from generator.ids import derive_seed

_MAX_ERRORS_KEPT = 20


@cache
def r4b_model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class  # heavy import: only when validating

    return get_fhir_model_class(resource_type)


def validation_errors(resource_type: str, payload: bytes) -> str | None:
    """None if `payload` (JSON) is a valid R4B `resource_type`, else a short description of the errors."""
    from pydantic import ValidationError

    try:
        r4b_model(resource_type).model_validate_json(payload)
    except ValidationError as err:
        return f"{resource_type}: {'; '.join(validation_problems(err, limit=3))}"
    return None


class SampleValidator:
    """Validates the first resource of each type offered, then each with probability `fraction` (drawn from
    its own seed, so the output is unaffected). fraction 0 validates nothing, 1 everything."""

    def __init__(self, fraction: float, *seed_parts: object):
        self.fraction = fraction
        self.rng = random.Random(derive_seed("validate", *seed_parts))
        self.seen_types: set[str] = set()
        self.checked = 0
        self.failed = 0
        self.errors: list[str] = []

    def offer(self, resource_type: str, payload: bytes) -> None:
        if self.fraction <= 0:
            return
        first_of_type = resource_type not in self.seen_types
        if not first_of_type and self.fraction < 1 and self.rng.random() >= self.fraction:
            return
        self.seen_types.add(resource_type)
        self.checked += 1
        problem = validation_errors(resource_type, payload)
        if problem is not None:
            self.failed += 1
            if len(self.errors) < _MAX_ERRORS_KEPT:
                self.errors.append(problem)
