"""The FHIRPath property test's own parts, checked without Spark: the generator writes only FHIRPath the
engine's parser accepts, and the oracle leaves unchecked what depends on evaluation order."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spark_jobs.sof.fhirpath import parse
from tests.unit.property.common import profile_name
from tests.unit.property.fhirpath_oracle import (
    Env,
    Failed,
    Scenario,
    Unsure,
    X,
    arithmetic,
    literal,
    order,
)
from tests.unit.property.fhirpath_strategies import Gen, resource_path, scenarios


def _paths(scenario: Scenario) -> list[str]:
    out = [c.x.text for c in scenario.columns + scenario.each_columns]
    out += [x.text for x in (scenario.where, scenario.each and scenario.each[1]) if x is not None]
    return out


@settings(settings.get_profile(profile_name()), max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_every_generated_expression_parses(scenario):
    """It once wrote `%resource.(value as Coding).code` (a parenthesised path after `%resource.`)."""
    for text in _paths(scenario):
        parse(text)


@settings(settings.get_profile(profile_name()), max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(["Patient", "Observation"]))
def test_every_resource_path_parses(data, resource):
    """The `%resource` columns of a forEach start from `%resource` itself, so that an `as` step (below `.` in
    precedence) takes it into the parentheses a following step needs: `(%resource.value as Coding).code`,
    not the `%resource.(value as Coding).code` that once came out."""
    parse(resource_path(Gen(data.draw, resource), resource).text)


def _items(text: str, values: list) -> X:
    return X(text, "integer", True, lambda f, e, values=values: list(values))


EMPTY, SEVERAL, ONE = _items("a.where(false)", []), _items("b", [1, 2]), _items("c", [3])
ENV = Env({}, 0)


@pytest.mark.parametrize("build", [lambda a, b: arithmetic("-", a, b), lambda a, b: order("<", a, b)],
                         ids=["arithmetic", "order"])
def test_several_items_beside_an_empty_operand_are_not_checked_and_beside_one_item_fail(build):
    """Seed 35240979121020941970517981292467863408 (Hypothesis 6.170.27, test_fhirpath.py as of 8363a69):
    `telecom.rank.first() - name.extension.value.as(decimal) - 100.0` on a Patient without telecom and with
    two decimal extensions. The oracle called it an error; the engine, which skips the second operand of a
    null-intolerant operator when the first is null, returned empty. FHIRPath does not order the two checks
    (empty operand: empty; several items: error), so the oracle leaves such a column unchecked, as it did
    already for an operand that fails itself (`{} + <error>`)."""
    for left, right in ((EMPTY, SEVERAL), (SEVERAL, EMPTY)):
        with pytest.raises(Unsure):
            build(left, right).run([], ENV)
    for left, right in ((ONE, SEVERAL), (SEVERAL, ONE)):
        with pytest.raises(Failed):
            build(left, right).run([], ENV)
    assert build(EMPTY, ONE).run([], ENV) == []
    assert build(literal(5, "integer"), ONE).run([], ENV) in ([2], [False])
