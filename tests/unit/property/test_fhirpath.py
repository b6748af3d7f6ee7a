"""FHIRPath compilation (`spark_jobs/sof`) against a plain-Python FHIRPath evaluator, at the ViewDefinition level.

Each example draws ~30 small FHIR-like Patients or Observations (arrays missing, empty, with one or several
items or JSON nulls; choice elements; extensions nested in extensions; decimals written as exact JSON
text such as `1.10`, `1e2` or `12345678901234567.25`) and one ViewDefinition whose columns are ~30
random FHIRPath expressions (paths, `where`, `exists`/`empty`/`hasValue`, `first`/`last`/indexers,
`count`, `join`, `ofType`/`as`/`is`, `extension(url)`, `getResourceKey`/`getReferenceKey`,
`lowBoundary`/`highBoundary`, `and`/`or`/`xor`/`implies`/`not()`, `=`/`!=`/`~`/`!~`, ordering, arithmetic,
`&`, `in`/`contains`, `|`, `{}`, `$this`, `%rowIndex`, `%resource`), plus maybe a `forEach` or
`forEachOrNull` with its own columns and a view-level `where`. The view runs in ONE Spark job; every row and
column must equal what a plain-Python evaluator computes (it imports no project code): a column's value is its
single item or null, a `collection: true` column the list of items.

The generator is fhirpath_strategies.py; the evaluator and the rules it follows (the singleton rule, what is
not checked, the engine's documented choices) are fhirpath_oracle.py's.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from spark_jobs.sof import compile_view
from tests.unit.property.common import budget
from tests.unit.property.fhirpath_oracle import outcome
from tests.unit.property.fhirpath_strategies import frame, scenarios, to_json

# -------------------------------------------------------------------------------------------- properties


@budget(8)
@given(scenarios())
def test_view_columns_equal_the_fhirpath_oracle(fast_spark, scenario):
    rows = scenario.rows()
    checked, checked_each, failing = [], [], []
    expected: dict = {(r["id"], env.row_index): {"id": r["id"], "ix": env.row_index} for r, env, _ in rows}
    for each, columns, keep in ((False, scenario.columns, checked), (True, scenario.each_columns, checked_each)):
        for column in columns:
            result = outcome(column, rows, each)
            if result == "failed":
                failing.append((each, column))
            elif result != "unsure":
                keep.append(column)
                for key, value in result.items():
                    expected[key][column.name] = value
    view = scenario.view(checked, checked_each)
    data = frame(fast_spark, scenario.resources)
    got = {}
    for row in compile_view(view).apply(data).collect():
        d = row.asDict()
        got[(d["id"], d.get("ix", 0))] = d
    assert sorted(got) == sorted(expected), (
        f"rows: engine only {sorted(set(got) - set(expected))}, oracle only {sorted(set(expected) - set(got))}; "
        f"where {scenario.where and scenario.where.text!r}, {scenario.each and scenario.each[0]} "
        f"{scenario.each and scenario.each[1].text!r}")
    for key, want in expected.items():
        for column in checked + checked_each:
            assert got[key][column.name] == want[column.name], (
                f"{column.name} = {column.x.text!r} (collection={column.collection}) on {key}: "
                f"engine {got[key][column.name]!r}, oracle {want[column.name]!r}; resource "
                f"{to_json(next(r for r in scenario.resources if r['id'] == key[0]))}")
    if failing:
        each, column = failing[0]
        view = scenario.view([] if each else [column], [column] if each else [])
        with pytest.raises(Exception, match="returned more than one item"):
            compile_view(view).apply(data).collect()
