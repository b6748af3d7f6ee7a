"""A select's `column` list: validated, compiled and cast to the column's output type."""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import compiler as C
from spark_jobs.sof import model
from spark_jobs.sof.compiler import Expr
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.rows import Rows, ViewColumn
from spark_jobs.sof.schema import DECIMAL_TYPE
from spark_jobs.sof.scope import ViewScope

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_COLUMN_KEYS = {"name", "path", "type", "collection", "description", "tag"}

# Column `type` -> Spark type. Date/time types stay ISO strings: FHIR allows partial precision
# ('1970-06', '2012') that DATE/TIMESTAMP columns would turn into nulls or invented days.
_OUTPUT_TYPES: dict[str, T.DataType] = {
    "boolean": T.BooleanType(), "integer": T.IntegerType(), "positiveInt": T.IntegerType(),
    "unsignedInt": T.IntegerType(), "integer64": T.LongType(), "decimal": DECIMAL_TYPE,
} | {t: T.StringType() for t in model.PRIMITIVE_TYPES - {"boolean", "integer", "positiveInt", "unsignedInt",
                                                         "integer64", "decimal"}}


def array_of(value: object, loc: str) -> list:
    """`value`, which the view must give as a JSON array."""
    if not isinstance(value, list):
        raise ViewDefinitionError("expected an array", loc)
    return value


def compile_columns(columns: object, focus: Expr, row_index: Column, scope: ViewScope, loc: str) -> Rows:
    """The one row a `column` list gives for `focus`."""
    out_cols: list[ViewColumn] = []
    values: list[Column] = []
    for i, column in enumerate(array_of(columns, loc)):
        spec, value = _column(column, focus, row_index, scope, f"{loc}[{i}]")
        out_cols.append(spec)
        values.append(value)
    return Rows(tuple(out_cols), one=tuple(values))


def _column(column: object, focus: Expr, row_index: Column, scope: ViewScope,
            loc: str) -> tuple[ViewColumn, Column]:
    name, path, declared_type, collection = _validate(column, loc)
    value = C.compile_path(path, focus, scope.env(f"{loc}.path", row_index))
    if C.kind(value.type) == "complex":
        raise ViewDefinitionError(f"column '{name}' selects the complex type {value.type}; select a "
                                  "primitive element", f"{loc}.path")
    fhir_type = declared_type or _inferred_type(value, loc)
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


def _validate(column: object, loc: str) -> tuple[str, str, str | None, bool]:
    """A column's (name, path, type, collection), checked before anything is compiled."""
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
    return name, path, column.get("type"), collection


def _inferred_type(value: Expr, loc: str) -> str:
    if value.type == C.EMPTY:
        return "string"
    if value.type == C.CHOICE:
        raise UnsupportedViewError(f"choice element '{C.choice_base(value)}[x]' used without ofType()",
                                   f"{loc}.path")
    return value.type


def _cast(col: Column, value: Expr, spark_type: T.DataType) -> Column:
    if value.type == C.EMPTY:
        return F.lit(None).cast(spark_type)
    return C.number(col, value).cast(spark_type) if isinstance(spark_type, T.NumericType) else col.cast(spark_type)
