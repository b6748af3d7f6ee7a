"""A view's select tree -> the rows it yields per resource, as one array<struct> column built with
higher-order functions: forEach = `transform`, sibling selects = cross product, unionAll = `concat`."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import compiler as C
from spark_jobs.sof.columns import array_of, compile_columns
from spark_jobs.sof.compiler import Expr
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.repeat import repeat_collection
from spark_jobs.sof.rows import Rows, cross
from spark_jobs.sof.scope import ViewScope

_SELECT_KEYS = {"column", "select", "forEach", "forEachOrNull", "repeat", "unionAll", "description"}
_ITERATORS = ("forEach", "forEachOrNull", "repeat")


class SelectCompiler:
    def __init__(self, scope: ViewScope, repeat_depth: int):
        self.scope = scope
        self.repeat_depth = repeat_depth
        self.used_repeat = False  # a `repeat` marked a type recursive: the schema may need more passes

    def select(self, node: object, focus: Expr, row_index: Column, loc: str) -> Rows:
        if not isinstance(node, dict):
            raise ViewDefinitionError("a select must be an object", loc)
        unknown = set(node) - _SELECT_KEYS
        if unknown:
            raise UnsupportedViewError(f"select key(s) {sorted(unknown)}", loc)
        iterators = [k for k in _ITERATORS if k in node]
        if len(iterators) > 1:
            raise ViewDefinitionError(f"a select can have only one of {iterators}", loc)
        if not iterators:
            return self._body(node, focus, row_index, loc)
        key = iterators[0]
        collection = self._collection(key, node[key], focus, row_index, f"{loc}.{key}")
        return self._iterate(node, collection, key == "forEachOrNull", loc)

    def _collection(self, key: str, value: object, focus: Expr, row_index: Column, loc: str) -> Expr:
        """What a forEach / forEachOrNull / repeat iterates over."""
        if key == "repeat":
            collection = repeat_collection(value, focus, self.scope, self.repeat_depth, loc)
            self.used_repeat |= collection.type != C.EMPTY
            return collection
        if not isinstance(value, str):
            raise ViewDefinitionError(f"{key} must be a FHIRPath string", loc)
        collection = C.compile_path(value, focus, self.scope.env(loc, row_index))
        if collection.type == C.CHOICE:
            raise UnsupportedViewError(f"{key} over a choice element without ofType()", loc)
        return collection

    def _iterate(self, node: dict, coll: Expr, or_null: bool, loc: str) -> Rows:
        if coll.type == C.EMPTY:  # nothing to iterate; still compile the body for its columns
            body = self._body(node, coll, F.lit(0), loc)
            return body if or_null else Rows(body.columns, many=body.empty_array())
        shape: list[Rows] = []

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
        return Rows(shape[-1].columns, many=F.coalesce(many, shape[-1].empty_array()))

    def _body(self, node: dict, focus: Expr, row_index: Column, loc: str) -> Rows:
        parts: list[Rows] = []
        if "column" in node:
            parts.append(compile_columns(node["column"], focus, row_index, self.scope, f"{loc}.column"))
        for i, sub in enumerate(array_of(node.get("select", []), f"{loc}.select")):
            parts.append(self.select(sub, focus, row_index, f"{loc}.select[{i}]"))
        if "unionAll" in node:
            parts.append(self._union(node["unionAll"], focus, row_index, f"{loc}.unionAll"))
        if not parts:
            raise ViewDefinitionError("a select needs column, select or unionAll", loc)
        return cross(parts)

    def _union(self, branches: object, focus: Expr, row_index: Column, loc: str) -> Rows:
        compiled = [self.select(b, focus, row_index, f"{loc}[{i}]") for i, b in enumerate(array_of(branches, loc))]
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
        return Rows(compiled[0].columns, many=F.concat(*arrays) if len(arrays) > 1 else arrays[0])
