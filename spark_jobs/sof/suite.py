"""Runner for the official SQL-on-FHIR v2 test suite (tests/*.json of FHIR/sql-on-fhir-v2).

Each file's fixtures become one (resource_type, raw_json) frame; every test's view runs over it. The
outputs of a file's tests are unioned and collected in ONE Spark job (rows travel as JSON text), and only
when that job fails (a test that errors at run time) are the file's tests collected one by one.

Rows are compared like the reference runner (sof-js `arraysMatch`): order-insensitive, same keys per
row, values equal (numbers by value, arrays element-wise). `expectColumns`, when given, must match the
output column order. The report is the suite's `test_report.json` shape:
`{file: {"tests": [{"name": ..., "result": {"passed": bool, "reason"?: str}}]}}`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs.lake.session import session_conf
from spark_jobs.sof.errors import is_view_error
from spark_jobs.sof.model import DEFAULT_FHIR_VERSION
from spark_jobs.sof.sources import frame_from_resources
from spark_jobs.sof.view import compile_view


@dataclass(frozen=True)
class CaseResult:
    file: str
    name: str
    passed: bool
    reason: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class SuiteResult:
    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    def by_id(self) -> dict[str, CaseResult]:
        return {c.id: c for c in self.cases}

    def to_report(self) -> dict:
        report: dict[str, dict] = {}
        for case in self.cases:
            result: dict = {"passed": case.passed}
            if not case.passed and case.reason:
                result["reason"] = case.reason
            report.setdefault(case.file, {"tests": []})["tests"].append({"name": case.name, "result": result})
        return report

    def write_report(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_report(), indent=2) + "\n")


def suite_files(directory: str | Path) -> list[Path]:
    """The suite's test files (JSON objects with `tests`), sorted; the schema file is skipped."""
    files = []
    for path in sorted(Path(directory).glob("*.json")):
        content = json.loads(path.read_text())
        if isinstance(content, dict) and isinstance(content.get("tests"), list):
            files.append(path)
    if not files:
        raise FileNotFoundError(f"no SQL-on-FHIR test files in {directory}")
    return files


def run_suite(spark: SparkSession, directory: str | Path, fhir_version: str = DEFAULT_FHIR_VERSION) -> SuiteResult:
    """Run every test file in `directory` in this one session."""
    start = time.perf_counter()
    result = SuiteResult()
    # Fixtures are a few rows: compiling generated Java for each of ~130 plans costs more than it saves.
    with session_conf(spark, {"spark.sql.codegen.wholeStage": "false"}):
        for path in suite_files(directory):
            result.cases.extend(run_test_file(spark, path, fhir_version))
    result.seconds = time.perf_counter() - start
    return result


@dataclass
class _Pending:
    index: int
    test: dict
    frame: DataFrame


def run_test_file(spark: SparkSession, path: Path, fhir_version: str = DEFAULT_FHIR_VERSION) -> list[CaseResult]:
    suite = json.loads(path.read_text())
    expectations = json.loads(path.read_text(), parse_float=Decimal)["tests"]  # exact numbers to compare
    resources = frame_from_resources(spark, suite.get("resources", []))
    results: dict[int, CaseResult] = {}
    pending: list[_Pending] = []
    for i, test in enumerate(suite["tests"]):
        case = _case(path.name, test)
        try:
            frame = compile_view(test["view"], fhir_version).apply(resources)
        except Exception as err:  # noqa: BLE001 - any failure is a result; only the view's own error passes
            results[i] = _judge_error(case, test, err)
            continue
        pending.append(_Pending(i, test, frame))
    for item, rows, error in _collect(pending):
        test = expectations[item.index]
        results[item.index] = _judge(_case(path.name, test), test, item.frame.columns, rows, error)
    return [results[i] for i in range(len(suite["tests"]))]


def _case(file: str, test: dict):
    def make(passed: bool, reason: str | None) -> CaseResult:
        return CaseResult(file, test["title"], passed, None if passed else reason, tuple(test.get("tags", [])))
    return make


def _collect(pending: list[_Pending]):
    """(item, rows, error) per pending test: one union job for the file, per-test jobs as fallback."""
    batch = [p for p in pending if not p.test.get("expectError")]
    if batch:
        try:
            tagged = [_as_json(p.frame, k) for k, p in enumerate(batch)]
            union = tagged[0]
            for t in tagged[1:]:
                union = union.unionByName(t)
            by_test: dict[int, list[dict]] = {k: [] for k in range(len(batch))}
            for row in union.collect():
                by_test[row["_t"]].append(json.loads(row["_j"], parse_float=Decimal))
            yield from ((p, by_test[k], None) for k, p in enumerate(batch))
            batch_done = True
        except Exception:  # noqa: BLE001 - some test fails at run time: isolate it below
            batch_done = False
    else:
        batch_done = True
    for p in pending:
        if batch_done and not p.test.get("expectError"):
            continue
        try:
            rows = [json.loads(r["_j"], parse_float=Decimal) for r in _as_json(p.frame, 0).collect()]
            yield p, rows, None
        except Exception as err:  # noqa: BLE001 - a run-time error is a result for expectError tests
            yield p, None, err


def _as_json(frame: DataFrame, k: int) -> DataFrame:
    row = F.to_json(F.struct(*[F.col(c) for c in frame.columns]), {"ignoreNullFields": "false"})
    return frame.select(F.lit(k).alias("_t"), row.alias("_j"))


def _judge_error(case, test: dict, error: BaseException) -> CaseResult:
    """An expectError case passes only on the engine's own view error (an invalid view, or its runtime check);
    an unsupported feature, a Spark analysis error or a bug in the engine fails it, as any error fails the
    other cases."""
    described = f"{type(error).__name__}: {_first_line(error)}"
    if test.get("expectError") and is_view_error(error):
        return case(True, None)
    if test.get("expectError"):
        return case(False, f"expected the view's own error, got {described}")
    return case(False, described)


def _judge(case, test: dict, columns: list[str], rows: list[dict] | None, error: Exception | None) -> CaseResult:
    if error is not None:
        return _judge_error(case, test, error)
    if test.get("expectError"):
        return case(False, f"expected an error, got {len(rows or [])} row(s)")
    assert rows is not None
    expected_columns = test.get("expectColumns")
    if expected_columns is not None and list(expected_columns) != list(columns):
        return case(False, f"columns {columns} != expected {expected_columns}")
    if "expectCount" in test:
        ok = len(rows) == test["expectCount"]
        return case(ok, f"{len(rows)} rows != expected {test['expectCount']}")
    ok, reason = rows_match(rows, test.get("expect", []))
    return case(ok, reason)


def rows_match(actual: list[dict], expected: list[dict]) -> tuple[bool, str | None]:
    """Order-insensitive row comparison (multiset of normalized rows)."""
    a = Counter(_row_key(r) for r in actual)
    e = Counter(_row_key(r) for r in expected)
    if a == e:
        return True, None
    missing = list((e - a).elements())[:3]
    extra = list((a - e).elements())[:3]
    return False, (f"{len(actual)} row(s), expected {len(expected)}; missing {_show(missing)}; "
                   f"unexpected {_show(extra)}")


def _row_key(row: dict) -> tuple:
    return tuple(sorted((k, _value_key(v)) for k, v in row.items()))


def _value_key(v: object) -> tuple:
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int | float | Decimal):
        return ("num", Decimal(str(v)).normalize())
    if isinstance(v, list):
        return ("list", tuple(_value_key(x) for x in v))
    if isinstance(v, dict):
        return ("obj", _row_key(v))
    return ("str", str(v))


def _show(keys: list[tuple]) -> str:
    def plain(v: tuple):
        tag = v[0]
        if tag == "null":
            return None
        if tag == "list":
            return [plain(x) for x in v[1]]
        if tag == "num":
            return str(v[1])
        if tag == "obj":
            return {k: plain(x) for k, x in v[1]}
        return v[1]
    return json.dumps([{k: plain(v) for k, v in row} for row in keys])


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
