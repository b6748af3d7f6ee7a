"""ViewDefinition -> one Spark projection over the bronze (resource_type, raw_json) frame.

Plan: keep the rows of the view's resource type, parse `raw_json` once with the minimal schema the view
needs (`schema.py`), then evaluate the whole select tree per resource as ONE column: an
array<struct<view columns>> built with higher-order functions (forEach = `transform`, sibling selects =
cross product, unionAll = `concat`), exploded once with `inline`. A view without forEach/unionAll needs
no explode at all. No joins, no shuffles, no Python UDFs: the work scales with the data like a `select`.

Modules: `scope` (resource and constants), `selection` (the select tree), `columns`, `repeat`, `rows`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import compiler as C
from spark_jobs.sof import model
from spark_jobs.sof.errors import ViewDefinitionError
from spark_jobs.sof.repeat import REPEAT_MAX_DEPTH
from spark_jobs.sof.rows import Rows, ViewColumn, cross
from spark_jobs.sof.schema import SchemaTree
from spark_jobs.sof.scope import ROOT, ViewScope
from spark_jobs.sof.selection import SelectCompiler

__all__ = ["CompiledView", "ViewColumn", "compile_view", "load_view", "run_view"]

_PROBE_REPEAT_DEPTH = 2  # probe passes only collect fields: shallow unrolling reaches them all
# Spark's JSON reader copies a number into a string field through a double: `1.10` -> '1.1', 17+ digits
# rounded, `1e-7` -> '1.0E-7'. Quoting the fractional numbers of the document first (strings are matched
# too, to skip them, and written back unchanged) keeps a decimal's text as written. A regex over the whole
# document costs several times the parse, so it is done only for views that read the written precision.
_JSON_STRING_OR_FRACTION = r'"((?:[^"\\]++|\\.)*+)"|(-?\d++(?:\.\d++(?:[eE][+-]?\d++)?|[eE][+-]?\d++))'


@dataclass(frozen=True)
class CompiledView:
    """A compiled ViewDefinition: `apply` turns a (resource_type, raw_json) frame into the view."""

    name: str | None
    resource: str
    columns: tuple[ViewColumn, ...]
    schema: T.StructType  # what `raw_json` is parsed with
    where: Column | None
    rows: Rows
    decimal_text: bool = False  # quote fractional JSON numbers before parsing (see _JSON_STRING_OR_FRACTION)

    @property
    def output_schema(self) -> T.StructType:
        return self.rows.struct_type

    def apply(self, resources: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
        """The view's rows; `keep` names columns of `resources` carried along in front of the view's own
        (e.g. bronze's `last_updated`, which silver keeps next to every row)."""
        kept = [F.col(name) for name in keep]
        raw = F.col("raw_json")
        if self.decimal_text:
            raw = F.regexp_replace(raw, _JSON_STRING_OR_FRACTION, '"$1$2"')
        parsed = (resources.where(F.col("resource_type") == F.lit(self.resource))
                  .select(*kept, F.from_json(raw, self.schema).alias(ROOT)))
        if self.where is not None:
            parsed = parsed.where(self.where)
        if self.rows.one is not None:
            return parsed.select(*kept, *self.rows.named_values())
        # Needs nested schema pruning off (a Spark 3.5 bug): every session gets it (lake.session.SESSION_SQL_CONF).
        return parsed.select(*kept, F.inline(self.rows.many))  # struct fields are the view's columns


def load_view(view: dict | str | Path) -> dict:
    """A view as a dict, from a dict, a JSON string or a JSON file path."""
    if isinstance(view, dict):
        return view
    if isinstance(view, Path) or (isinstance(view, str) and not view.lstrip().startswith("{")):
        return json.loads(Path(view).read_text())
    return json.loads(view)


def compile_view(view: dict | str | Path, fhir_version: str = model.DEFAULT_FHIR_VERSION) -> CompiledView:
    """Validate and compile a SQL-on-FHIR v2 ViewDefinition (needs an active SparkSession)."""
    definition = load_view(view)
    resource = _validate_top(definition, fhir_version)
    tree = SchemaTree(resource, fhir_version)
    # Column expressions name fields without their types, so one pass normally suffices: the parse
    # schema is read from the tree afterwards. Only `repeat` parses JSON text *inside* the expressions,
    # with struct types that must be final: then compile cheap probe passes (shallow unrolling, same
    # fields) until the schema stops growing, and build once more with the full unrolling depth.
    compiled, used_repeat = _compile_pass(definition, tree)
    if not used_repeat:
        return compiled
    for _ in range(8):
        before = tree.version
        _compile_pass(definition, tree, probe=True)
        if tree.version == before:
            compiled, _ = _compile_pass(definition, tree)
            if tree.version == before:
                return compiled
    raise RuntimeError("view schema did not converge")  # pragma: no cover - the tree only grows


def run_view(resources: DataFrame, view: dict | str | Path,
             fhir_version: str = model.DEFAULT_FHIR_VERSION) -> DataFrame:
    """(resource_type, raw_json) frame -> the view's rows."""
    return compile_view(view, fhir_version).apply(resources)


def _validate_top(view: object, fhir_version: str) -> str:
    if not isinstance(view, dict):
        raise ViewDefinitionError("a ViewDefinition must be a JSON object")
    resource = view.get("resource")
    if not isinstance(resource, str) or not resource:
        raise ViewDefinitionError("ViewDefinition.resource is required", "resource")
    if not model.is_resource_type(resource, fhir_version):
        raise ViewDefinitionError(f"unknown FHIR {fhir_version} resource type '{resource}'", "resource")
    select = view.get("select")
    if not isinstance(select, list) or not select:
        raise ViewDefinitionError("ViewDefinition.select must be a non-empty array", "select")
    return resource


def _compile_pass(view: dict, tree: SchemaTree, probe: bool = False) -> tuple[CompiledView, bool]:
    """One compilation against the current schema tree (which it grows); also whether `repeat` was used."""
    scope = ViewScope.of(view, tree)
    selects = SelectCompiler(scope, _PROBE_REPEAT_DEPTH if probe else REPEAT_MAX_DEPTH)
    C.member(scope.root, "id", scope.env("resource"))  # always parsed: handy and cheap
    where = _where(view, scope)
    rows = cross([selects.select(s, scope.root, F.lit(0), f"select[{i}]") for i, s in enumerate(view["select"])])
    names = [c.name for c in rows.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ViewDefinitionError(f"column names must be unique in a view: {duplicates}", "select")
    compiled = CompiledView(view.get("name"), view["resource"], rows.columns, tree.struct_type(), where, rows,
                            tree.decimal_text)
    return compiled, selects.used_repeat


def _where(view: dict, scope: ViewScope) -> Column | None:
    """The view's where clauses, and-ed: a resource missing any of them yields no rows."""
    conditions = []
    for i, clause in enumerate(view.get("where") or []):
        loc = f"where[{i}].path"
        if not isinstance(clause, dict) or not isinstance(clause.get("path"), str):
            raise ViewDefinitionError("a where clause needs a path", f"where[{i}]")
        value = C.compile_path(clause["path"], scope.root, scope.env(loc))
        if value.type not in ("boolean", C.EMPTY):
            raise ViewDefinitionError(f"where path must be boolean, it is {value.type}", loc)
        conditions.append(F.coalesce(C.singleton(value, loc), F.lit(False)))
    if not conditions:
        return None
    out = conditions[0]
    for c in conditions[1:]:
        out = out & c
    return out
