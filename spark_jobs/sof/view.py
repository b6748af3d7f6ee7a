"""ViewDefinition -> one Spark projection over the bronze (resource_type, raw_json) frame.

Plan: keep the rows of the view's resource type, parse `raw_json` once with the minimal schema the view
needs (`schema.py`), then evaluate the whole select tree per resource as ONE column: an
array<struct<view columns>> built with higher-order functions (forEach = `transform`, sibling selects =
cross product, unionAll = `concat`), exploded once with `inline`. A view without forEach/unionAll needs
no explode at all. No joins, no shuffles, no Python UDFs: the work scales with the data like a `select`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import compiler as C
from spark_jobs.sof import model
from spark_jobs.sof.compiler import Env, Expr
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.schema import DECIMAL_TYPE, SchemaTree

ROOT = "__resource"  # the parsed resource column
REPEAT_MAX_DEPTH = 10  # levels a `repeat` unrolls to; deeper data fails loudly at run time
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SELECT_KEYS = {"column", "select", "forEach", "forEachOrNull", "repeat", "unionAll", "description"}
_COLUMN_KEYS = {"name", "path", "type", "collection", "description", "tag"}

# Column `type` -> Spark type. Date/time types stay ISO strings: FHIR allows partial precision
# ('1970-06', '2012') that DATE/TIMESTAMP columns would turn into nulls or invented days.
_OUTPUT_TYPES: dict[str, T.DataType] = {
    "boolean": T.BooleanType(), "integer": T.IntegerType(), "positiveInt": T.IntegerType(),
    "unsignedInt": T.IntegerType(), "integer64": T.LongType(), "decimal": DECIMAL_TYPE,
} | {t: T.StringType() for t in model.PRIMITIVE_TYPES - {"boolean", "integer", "positiveInt", "unsignedInt",
                                                         "integer64", "decimal"}}

# Constant value[x] -> FHIR type of the literal.
_CONSTANT_TYPES = {f"value{t[0].upper()}{t[1:]}": t for t in model.PRIMITIVE_TYPES - {"xhtml"}}


@dataclass(frozen=True)
class ViewColumn:
    name: str
    spark_type: T.DataType
    fhir_type: str
    collection: bool


@dataclass(frozen=True)
class _Rows:
    """The rows one select produces for one focus: exactly one (`one`: its column values) or an
    array<struct> (`many`)."""

    columns: tuple[ViewColumn, ...]
    one: tuple[Column, ...] | None = None
    many: Column | None = None

    @property
    def struct_type(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, c.spark_type) for c in self.columns])

    def as_array(self) -> Column:
        if self.many is not None:
            return self.many
        return F.array(F.struct(*[v.alias(c.name) for v, c in zip(self.one, self.columns, strict=True)]))


@dataclass(frozen=True)
class CompiledView:
    """A compiled ViewDefinition: `apply` turns a (resource_type, raw_json) frame into the view."""

    name: str | None
    resource: str
    columns: tuple[ViewColumn, ...]
    schema: T.StructType  # what `raw_json` is parsed with
    where: Column | None
    rows: _Rows

    @property
    def output_schema(self) -> T.StructType:
        return self.rows.struct_type

    def apply(self, resources: DataFrame) -> DataFrame:
        parsed = (resources.where(F.col("resource_type") == F.lit(self.resource))
                  .select(F.from_json(F.col("raw_json"), self.schema).alias(ROOT)))
        if self.where is not None:
            parsed = parsed.where(self.where)
        if self.rows.one is not None:
            return parsed.select(*[v.alias(c.name) for v, c in zip(self.rows.one, self.columns, strict=True)])
        return parsed.select(F.inline(self.rows.many))  # struct fields are the view's columns, in order


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
    compiled, used_repeat = _ViewCompiler(definition, tree).compile()
    if not used_repeat:
        return compiled
    for _ in range(8):
        before = tree.version
        _ViewCompiler(definition, tree, probe=True).compile()
        if tree.version == before:
            compiled, _ = _ViewCompiler(definition, tree).compile()
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


class _ViewCompiler:
    def __init__(self, view: dict, tree: SchemaTree, probe: bool = False):
        self.view = view
        self.tree = tree
        self.max_depth = 2 if probe else REPEAT_MAX_DEPTH
        self.used_repeat = False
        self.root = Expr(F.col(ROOT), False, tree.root.type_code, tree.root, resource=True)
        self.constants = self._constants()

    def env(self, loc: str, row_index: Column) -> Env:
        return Env(self.tree, self.root, self.constants, row_index, loc)

    def compile(self) -> tuple[CompiledView, bool]:
        C.member(self.root, "id", self.env("resource", F.lit(0)))  # always parsed: handy and cheap
        where = self._where()
        parts = [self._select(s, self.root, F.lit(0), f"select[{i}]") for i, s in enumerate(self.view["select"])]
        rows = _cross(parts)
        names = [c.name for c in rows.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ViewDefinitionError(f"column names must be unique in a view: {duplicates}", "select")
        view = CompiledView(self.view.get("name"), self.view["resource"], rows.columns,
                            self.tree.struct_type(), where, rows)
        return view, self.used_repeat

    # -- constants and where
    def _constants(self) -> dict[str, Expr]:
        out: dict[str, Expr] = {}
        for i, const in enumerate(self.view.get("constant") or []):
            loc = f"constant[{i}]"
            if not isinstance(const, dict) or not isinstance(const.get("name"), str):
                raise ViewDefinitionError("a constant needs a name", loc)
            values = [k for k in const if k.startswith("value")]
            if len(values) != 1:
                raise ViewDefinitionError(f"constant '{const['name']}' needs exactly one value[x]", loc)
            key = values[0]
            fhir_type = _CONSTANT_TYPES.get(key)
            if fhir_type is None:
                raise UnsupportedViewError(f"constant type '{key}'", loc)
            out[const["name"]] = _constant_expr(const[key], fhir_type, loc)
        return out

    def _where(self) -> Column | None:
        conditions = []
        for i, clause in enumerate(self.view.get("where") or []):
            loc = f"where[{i}].path"
            if not isinstance(clause, dict) or not isinstance(clause.get("path"), str):
                raise ViewDefinitionError("a where clause needs a path", f"where[{i}]")
            value = C.compile_path(clause["path"], self.root, self.env(loc, F.lit(0)))
            if value.type not in ("boolean", C.EMPTY):
                raise ViewDefinitionError(f"where path must be boolean, it is {value.type}", loc)
            conditions.append(F.coalesce(C.singleton(value, loc), F.lit(False)))
        if not conditions:
            return None
        out = conditions[0]
        for c in conditions[1:]:
            out = out & c
        return out

    # -- select tree
    def _select(self, node: object, focus: Expr, row_index: Column, loc: str) -> _Rows:
        if not isinstance(node, dict):
            raise ViewDefinitionError("a select must be an object", loc)
        unknown = set(node) - _SELECT_KEYS
        if unknown:
            raise UnsupportedViewError(f"select key(s) {sorted(unknown)}", loc)
        iterators = [k for k in ("forEach", "forEachOrNull", "repeat") if k in node]
        if len(iterators) > 1:
            raise ViewDefinitionError(f"a select can have only one of {iterators}", loc)
        if not iterators:
            return self._body(node, focus, row_index, loc)
        key = iterators[0]
        if key == "repeat":
            collection = self._repeat(node["repeat"], focus, f"{loc}.repeat")
        else:
            if not isinstance(node[key], str):
                raise ViewDefinitionError(f"{key} must be a FHIRPath string", f"{loc}.{key}")
            collection = C.compile_path(node[key], focus, self.env(f"{loc}.{key}", row_index))
            if collection.type == C.CHOICE:
                raise UnsupportedViewError(f"{key} over a choice element without ofType()", f"{loc}.{key}")
        return self._iterate(node, collection, key == "forEachOrNull", loc)

    def _iterate(self, node: dict, coll: Expr, or_null: bool, loc: str) -> _Rows:
        if coll.type == C.EMPTY:  # nothing to iterate; still compile the body for its columns
            body = self._body(node, coll, F.lit(0), loc)
            if or_null:
                return body
            return _Rows(body.columns, many=F.array().cast(T.ArrayType(body.struct_type)))
        shape: list[_Rows] = []

        def each(x: Column, i: Column) -> Column:
            rows = self._body(node, coll.item(x), i, loc)
            shape.append(rows)
            return rows.as_array()

        arr = C.to_array(coll)
        if or_null:
            # Indices 0..max(n,1)-1: an empty collection still yields one row, evaluated on an empty focus.
            count = F.greatest(F.coalesce(F.size(arr), F.lit(0)), F.lit(1))
            many = F.flatten(F.transform(F.sequence(F.lit(0), count - 1),
                                         lambda i: each(F.try_element_at(arr, i + 1), i)))
        else:
            many = F.flatten(F.transform(arr, each))
        return _Rows(shape[-1].columns, many=F.coalesce(many, F.array().cast(T.ArrayType(shape[-1].struct_type))))

    def _repeat(self, paths: object, focus: Expr, loc: str) -> Expr:
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise ViewDefinitionError("repeat must be a non-empty array of FHIRPath strings", loc)

        def children(item: Expr, warn: bool = True) -> list[Expr]:
            return [C.compile_path(p, item, replace(self.env(f"{loc}[{i}]", F.lit(0)), warn_unknown=warn))
                    for i, p in enumerate(paths)]

        # Repeat paths are written for the nested levels (`answer.item`); at the focus some may not exist.
        first = [e for e in children(focus, warn=False) if e.type != C.EMPTY]
        if not first:
            return C.empty()
        types = {e.type for e in first}
        if len(types) > 1 or C.kind(first[0].type) != "complex":
            raise UnsupportedViewError(f"repeat over mixed or primitive types {sorted(types)}", loc)
        node = self.tree.mark_recursive(first[0].type)
        self.used_repeat = True
        element = Expr(F.lit(None), False, first[0].type, node)

        def concat(items: list[Expr]) -> Column:
            arrays = [F.coalesce(C.to_array(e), F.array()) for e in items if e.type != C.EMPTY]
            return arrays[0] if len(arrays) == 1 else F.concat(*arrays)

        def expand(arr: Column, depth: int) -> Column:
            # Depth-first, pre-order: each item, then everything below it.
            if depth == self.max_depth:
                deeper = F.exists(arr, lambda x: F.size(concat(children(element.item(x)))) > 0)
                message = F.lit(f"SQL-on-FHIR: repeat at {loc} is nested deeper than {depth} levels")
                return F.when(deeper, F.raise_error(message)).otherwise(arr)
            return F.flatten(F.transform(arr, lambda x: F.concat(
                F.array(x), F.coalesce(expand(concat(children(element.item(x))), depth + 1), F.array()))))

        return Expr(expand(concat(first), 1), True, first[0].type, node)

    def _body(self, node: dict, focus: Expr, row_index: Column, loc: str) -> _Rows:
        parts: list[_Rows] = []
        if "column" in node:
            parts.append(self._columns(node["column"], focus, row_index, f"{loc}.column"))
        for i, sub in enumerate(_list(node.get("select", []), f"{loc}.select")):
            parts.append(self._select(sub, focus, row_index, f"{loc}.select[{i}]"))
        if "unionAll" in node:
            parts.append(self._union(node["unionAll"], focus, row_index, f"{loc}.unionAll"))
        if not parts:
            raise ViewDefinitionError("a select needs column, select or unionAll", loc)
        return _cross(parts)

    def _union(self, branches: object, focus: Expr, row_index: Column, loc: str) -> _Rows:
        compiled = [self._select(b, focus, row_index, f"{loc}[{i}]")
                    for i, b in enumerate(_list(branches, loc))]
        if not compiled:
            raise ViewDefinitionError("unionAll needs at least one select", loc)
        names = [c.name for c in compiled[0].columns]
        for i, rows in enumerate(compiled[1:], start=1):
            if [c.name for c in rows.columns] != names:
                raise ViewDefinitionError(
                    f"unionAll branches must have the same columns in the same order: {names} vs "
                    f"{[c.name for c in rows.columns]}", f"{loc}[{i}]")
        target = compiled[0].struct_type
        arrays = [r.as_array().cast(T.ArrayType(target)) for r in compiled]
        return _Rows(compiled[0].columns, many=F.concat(*arrays) if len(arrays) > 1 else arrays[0])

    def _columns(self, columns: object, focus: Expr, row_index: Column, loc: str) -> _Rows:
        out_cols: list[ViewColumn] = []
        values: list[Column] = []
        for i, column in enumerate(_list(columns, loc)):
            spec, value = self._column(column, focus, row_index, f"{loc}[{i}]")
            out_cols.append(spec)
            values.append(value)
        return _Rows(tuple(out_cols), one=tuple(values))

    def _column(self, column: object, focus: Expr, row_index: Column, loc: str) -> tuple[ViewColumn, Column]:
        if not isinstance(column, dict):
            raise ViewDefinitionError("a column must be an object", loc)
        unknown = set(column) - _COLUMN_KEYS
        if unknown:
            raise UnsupportedViewError(f"column key(s) {sorted(unknown)}", loc)
        name, path = column.get("name"), column.get("path")
        if not isinstance(path, str):
            raise ViewDefinitionError("a column needs a path", loc)
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ViewDefinitionError(f"column name {name!r} must match {_NAME_RE.pattern}", loc)
        collection = column.get("collection", False)
        if not isinstance(collection, bool):
            raise ViewDefinitionError("collection must be true or false", loc)
        value = C.compile_path(path, focus, self.env(f"{loc}.path", row_index))
        if C.kind(value.type) == "complex":
            raise ViewDefinitionError(f"column '{name}' selects the complex type {value.type}; select a "
                                      "primitive element", f"{loc}.path")
        fhir_type = column.get("type") or _inferred_type(value, loc)
        spark_type = _OUTPUT_TYPES.get(fhir_type)
        if spark_type is None:
            raise UnsupportedViewError(f"column type '{fhir_type}' (only FHIR primitive types)", f"{loc}.type")
        if collection:
            items = C.to_array(value) if value.type != C.EMPTY else F.array()
            col = F.coalesce(F.transform(items, lambda v: _cast(v, value, spark_type)),
                             F.array().cast(T.ArrayType(spark_type)))
            return ViewColumn(name, T.ArrayType(spark_type), fhir_type, True), col
        col = _cast(C.singleton(value, f"column '{name}' ({loc}.path)"), value, spark_type)
        return ViewColumn(name, spark_type, fhir_type, False), col


def _list(value: object, loc: str) -> list:
    if not isinstance(value, list):
        raise ViewDefinitionError("expected an array", loc)
    return value


def _inferred_type(value: Expr, loc: str) -> str:
    if value.type == C.EMPTY:
        return "string"
    if value.type == C.CHOICE:
        raise UnsupportedViewError(f"choice element '{value.choice[1].base}[x]' used without ofType()",  # type: ignore[index]
                                   f"{loc}.path")
    return value.type


def _cast(col: Column, value: Expr, spark_type: T.DataType) -> Column:
    if value.type == C.EMPTY:
        return F.lit(None).cast(spark_type)
    return C.number(col, value).cast(spark_type) if isinstance(spark_type, T.NumericType) else col.cast(spark_type)


def _constant_expr(value: object, fhir_type: str, loc: str) -> Expr:
    if fhir_type == "boolean":
        ok, col = isinstance(value, bool), F.lit(value)
    elif fhir_type in model.INTEGER_TYPES:
        ok, col = isinstance(value, int) and not isinstance(value, bool), F.lit(value).cast(T.LongType())
    elif fhir_type == "decimal":
        ok = isinstance(value, int | float | Decimal | str) and not isinstance(value, bool)
        col = F.lit(Decimal(str(value))).cast(DECIMAL_TYPE) if ok else None
    else:
        ok, col = isinstance(value, str), F.lit(value)
    if not ok:
        raise ViewDefinitionError(f"constant value {value!r} is not a valid {fhir_type}", loc)
    return Expr(col, False, fhir_type)


def _cross(parts: list[_Rows]) -> _Rows:
    """Cartesian product of sibling row sets, columns in declaration order."""
    acc = parts[0]
    for part in parts[1:]:
        acc = _cross2(acc, part)
    return acc


def _cross2(a: _Rows, b: _Rows) -> _Rows:
    columns = a.columns + b.columns

    def fields(rows: _Rows, row: Column | None) -> list[Column]:
        if rows.one is not None:
            return [v.alias(c.name) for v, c in zip(rows.one, rows.columns, strict=True)]
        return [row.getField(c.name).alias(c.name) for c in rows.columns]  # type: ignore[union-attr]

    if a.one is not None and b.one is not None:
        return _Rows(columns, one=a.one + b.one)
    if a.one is not None:
        return _Rows(columns, many=F.transform(b.many, lambda y: F.struct(*fields(a, None), *fields(b, y))))
    if b.one is not None:
        return _Rows(columns, many=F.transform(a.many, lambda x: F.struct(*fields(a, x), *fields(b, None))))
    return _Rows(columns, many=F.flatten(F.transform(
        a.many, lambda x: F.transform(b.many, lambda y: F.struct(*fields(a, x), *fields(b, y))))))
