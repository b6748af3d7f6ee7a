"""The shape of a view's output: its columns (`ViewColumn`) and the rows a select yields (`Rows`)."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T


@dataclass(frozen=True)
class ViewColumn:
    name: str
    spark_type: T.DataType
    fhir_type: str
    collection: bool


@dataclass(frozen=True)
class Rows:
    """The rows one select produces for one focus: exactly one (`one`: its column values) or an
    array<struct> (`many`)."""

    columns: tuple[ViewColumn, ...]
    one: tuple[Column, ...] | None = None
    many: Column | None = None

    @property
    def struct_type(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, c.spark_type) for c in self.columns])

    def named_values(self) -> list[Column]:
        """The single row's values, aliased to their column names (only when `one` is set)."""
        return [v.alias(c.name) for v, c in zip(self.one, self.columns, strict=True)]  # type: ignore[arg-type]

    def as_array(self) -> Column:
        if self.many is not None:
            return self.many
        return F.array(F.struct(*self.named_values()))

    def empty_array(self) -> Column:
        """No rows, typed as this select's array<struct>."""
        return F.array().cast(T.ArrayType(self.struct_type))


def cross(parts: list[Rows]) -> Rows:
    """Cartesian product of sibling row sets, columns in declaration order."""
    acc = parts[0]
    for part in parts[1:]:
        acc = _cross2(acc, part)
    return acc


def _cross2(a: Rows, b: Rows) -> Rows:
    columns = a.columns + b.columns

    def fields(rows: Rows, row: Column | None) -> list[Column]:
        if rows.one is not None:
            return rows.named_values()
        return [row.getField(c.name).alias(c.name) for c in rows.columns]  # type: ignore[union-attr]

    if a.one is not None and b.one is not None:
        return Rows(columns, one=a.one + b.one)
    if a.one is not None:
        return Rows(columns, many=F.transform(b.many, lambda y: F.struct(*fields(a, None), *fields(b, y))))
    if b.one is not None:
        return Rows(columns, many=F.transform(a.many, lambda x: F.struct(*fields(a, x), *fields(b, None))))
    return Rows(columns, many=F.flatten(F.transform(
        a.many, lambda x: F.transform(b.many, lambda y: F.struct(*fields(a, x), *fields(b, y))))))
