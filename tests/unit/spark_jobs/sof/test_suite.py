"""The official SQL-on-FHIR v2 suite: one pytest case per suite test, all from one shared run."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from spark_jobs.sof.suite import rows_match, run_suite, suite_files
from tests.conftest import require_samples, samples_dir

SUITE = "sql-on-fhir-v2-tests"
SUITE_DIR = samples_dir() / SUITE  # collection-time: parametrize over the suite's cases when it is there
MIN_PASSED = 120

# Suite tests the engine does not pass yet, by id, each with the reason. Empty: all 134 pass. A test
# listed here that starts passing fails the run (strict xfail), so this list cannot go stale.
KNOWN_FAILURES: dict[str, str] = {}


def _case_ids() -> list[str]:
    if not SUITE_DIR.is_dir():
        return []
    return [f"{path.name}::{test['title']}"
            for path in suite_files(SUITE_DIR) for test in json.loads(path.read_text())["tests"]]


CASE_IDS = _case_ids()


@pytest.fixture(scope="session")
def suite_result(spark):
    return run_suite(spark, require_samples(SUITE))


@pytest.mark.parametrize("case_id", [
    pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[i])) if i in KNOWN_FAILURES else i
    for i in CASE_IDS
])
def test_suite_case(suite_result, case_id):
    case = suite_result.by_id()[case_id]
    assert case.passed, case.reason


def test_suite_totals(suite_result):
    assert len(CASE_IDS) == 134 and len(suite_result.cases) == 134
    assert suite_result.passed >= MIN_PASSED
    shareable = [c for c in suite_result.cases if "shareable" in c.tags]
    assert [c.id for c in shareable if not c.passed] == []
    assert set(KNOWN_FAILURES) <= set(CASE_IDS)


def test_report_has_the_suite_format(suite_result, tmp_path):
    path = tmp_path / "test_report.json"
    suite_result.write_report(path)
    report = json.loads(path.read_text())
    assert sorted(report) == sorted(p.name for p in suite_files(SUITE_DIR))
    assert sum(len(f["tests"]) for f in report.values()) == 134
    first = report["basic.json"]["tests"][0]
    assert first == {"name": "basic attribute", "result": {"passed": True}}


@pytest.mark.parametrize(("actual", "expected", "ok"), [
    ([{"a": 1}, {"a": 2}], [{"a": 2}, {"a": 1}], True),  # order-insensitive
    ([{"a": Decimal("5.0000")}], [{"a": 5}], True),  # numbers by value
    ([{"a": 1}], [{"a": True}], False),  # but a boolean is no number
    ([{"a": 1}, {"a": 1}], [{"a": 1}], False),  # duplicates count
    ([{"a": 1, "b": None}], [{"a": 1}], False),  # same keys required
    ([{"a": ["x", "y"]}], [{"a": ["y", "x"]}], False),  # arrays are ordered
    ([], [], True),
])
def test_rows_match(actual, expected, ok):
    assert rows_match(actual, expected)[0] is ok


def test_runner_reports_failures_it_sees(spark, tmp_path):
    """A fabricated suite file: the runner must fail wrong expectations and errors that did not happen."""
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "A"}, {"family": "B"}]}
    view = {"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}
    family = {"resource": "Patient", "select": [{"column": [{"name": "f", "path": "name.family"}]}]}
    (tmp_path / "mini.json").write_text(json.dumps({"title": "mini", "resources": [patient], "tests": [
        {"title": "right", "view": view, "expect": [{"id": "p1"}]},
        {"title": "wrong value", "view": view, "expect": [{"id": "p2"}]},
        {"title": "wrong columns", "view": view, "expect": [{"id": "p1"}], "expectColumns": ["x"]},
        {"title": "no error", "view": view, "expectError": True},
        {"title": "run-time error", "view": family, "expectError": True},
        {"title": "unexpected error", "view": family, "expect": []},
    ]}))
    outcome = {c.name: c.passed for c in run_suite(spark, tmp_path).cases}
    assert outcome == {"right": True, "wrong value": False, "wrong columns": False, "no error": False,
                       "run-time error": True, "unexpected error": False}


def test_an_expected_error_passes_only_on_the_engine_s_own_view_error(spark, tmp_path):
    """expectError is met by an invalid view or the engine's runtime check, not by any exception: an
    unsupported feature (the engine giving up) or a failure outside the engine fails the case."""
    patient = {"resourceType": "Patient", "id": "p1", "name": [{"family": "A"}, {"family": "B"}]}
    unsupported = {"resource": "Patient", "select": [{"column": [{"name": "x", "path": "name.repeat(given)"}]}]}
    (tmp_path / "errors.json").write_text(json.dumps({"title": "errors", "resources": [patient], "tests": [
        {"title": "invalid view", "view": {"select": []}, "expectError": True},
        {"title": "unsupported", "view": unsupported, "expectError": True},
    ]}))
    cases = {c.name: c for c in run_suite(spark, tmp_path).cases}
    assert cases["invalid view"].passed
    assert not cases["unsupported"].passed
    assert cases["unsupported"].reason.startswith("expected the view's own error, got UnsupportedViewError")


def test_is_view_error_tells_the_engine_s_errors_from_others():
    from spark_jobs.sof.errors import (
        RUNTIME_ERROR_PREFIX,
        UnsupportedViewError,
        ViewDefinitionError,
        is_view_error,
    )

    assert is_view_error(ViewDefinitionError("bad", "select[0]"))
    assert is_view_error(RuntimeError(f"[USER_RAISED_EXCEPTION] {RUNTIME_ERROR_PREFIX} x returned more than one"))
    assert not is_view_error(UnsupportedViewError("repeat over primitives"))
    assert not is_view_error(KeyError("column"))
