"""Property-based tests (hypothesis) of the pure transformations, each against a small oracle written in the
test module itself (plain Python, no project code computes an expected value).

The Hypothesis profile (common.py) is loaded here, before any test module is imported: `fixed` unless
`FHIRPULSE_HYPOTHESIS_PROFILE=hunt`."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.unit.property.common import profile_name

settings.load_profile(profile_name())


@pytest.fixture(scope="module")
def fast_spark(spark):
    """The unit-test session tuned for tiny frames for the module, restored afterwards: whole-stage codegen off
    (compiling Java for each tiny plan costs more than it saves, as in the SQL-on-FHIR suite runner) and one
    shuffle partition."""
    from spark_jobs.lake.session import session_conf

    with session_conf(spark, {"spark.sql.codegen.wholeStage": "false", "spark.sql.shuffle.partitions": "1"}):
        yield spark
