"""What the paths of one view can see: the parsed resource (`%resource`) and the view's constants."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import model
from spark_jobs.sof.compiler import Env, Expr
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.schema import DECIMAL_TYPE, SchemaTree

ROOT = "__resource"  # the parsed resource column

# Constant value[x] -> FHIR type of the literal.
_CONSTANT_TYPES = {f"value{t[0].upper()}{t[1:]}": t for t in model.PRIMITIVE_TYPES - {"xhtml"}}


@dataclass(frozen=True)
class ViewScope:
    tree: SchemaTree
    root: Expr
    constants: dict[str, Expr]

    @classmethod
    def of(cls, view: dict, tree: SchemaTree) -> ViewScope:
        root = Expr(F.col(ROOT), False, tree.root.type_code, tree.root, resource=True)
        return cls(tree, root, _constants(view))

    def env(self, loc: str, row_index: Column | None = None) -> Env:
        """The environment of the path at `loc`; `%rowIndex` is 0 outside forEach/repeat."""
        return Env(self.tree, self.root, self.constants, F.lit(0) if row_index is None else row_index, loc)


def _constants(view: dict) -> dict[str, Expr]:
    out: dict[str, Expr] = {}
    for i, const in enumerate(view.get("constant") or []):
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
