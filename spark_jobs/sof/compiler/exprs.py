"""Compiled values (`Expr`), what a path can see (`Env`), and the collection helpers all compilers share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import model
from spark_jobs.sof.errors import RUNTIME_ERROR_PREFIX, UnsupportedViewError
from spark_jobs.sof.schema import DECIMAL_TYPE, SchemaNode, SchemaTree

EMPTY = "empty"  # type of a collection known to be empty (unknown element, `{}`)
CHOICE = "choice"  # type of a bare polymorphic element (`value` of `value[x]`) before ofType()
_STRINGISH = model.PRIMITIVE_TYPES - model.INTEGER_TYPES - {"boolean", "decimal"}


@dataclass(frozen=True)
class Expr:
    col: Column
    many: bool  # array column (possibly several items) vs. nullable singleton
    type: str  # FHIR type code ('string', 'HumanName', ...), EMPTY or CHOICE
    node: SchemaNode | None = None  # complex types: where member access registers fields
    raw_decimal: bool = False  # decimal held as its JSON text
    resource: bool = False  # the focus is a whole resource (getResourceKey)
    choice: tuple[Expr, model.ChoiceDef] | None = None  # CHOICE: (parent, definition)

    def item(self, col: Column) -> Expr:
        """The same static type, for one element of this collection (a lambda variable)."""
        return replace(self, col=col, many=False)


@dataclass(frozen=True)
class Env:
    """What a path can see besides its focus."""

    tree: SchemaTree
    root: Expr
    constants: dict[str, Expr]
    row_index: Column
    loc: str
    this: Expr | None = None  # `$this` inside where()/exists(); the context otherwise
    warn_unknown: bool = True  # log elements the type does not define (likely typos)

    def at(self, this: Expr) -> Env:
        return replace(self, this=this)


def empty() -> Expr:
    return Expr(F.lit(None), False, EMPTY)


def boolean(col: Column) -> Expr:
    return Expr(col, False, "boolean")


def kind(type_code: str) -> str:
    """Comparison family of a type: boolean, number, string, complex, empty, choice."""
    if type_code in (EMPTY, CHOICE, "boolean"):
        return type_code
    if type_code in model.INTEGER_TYPES or type_code == "decimal":
        return "number"
    if type_code in _STRINGISH:
        return "string"
    return "complex"


def choice_base(e: Expr) -> str:
    """`deceased` for the bare choice element `deceased[x]`."""
    return e.choice[1].base  # type: ignore[index]


def size(e: Expr) -> Column:
    if e.type == EMPTY:
        return F.lit(0)
    if e.many:
        return F.when(e.col.isNull(), F.lit(0)).otherwise(F.size(e.col))
    return F.when(e.col.isNull(), F.lit(0)).otherwise(F.lit(1))


def to_array(e: Expr) -> Column:
    """The collection as an array column (singletons become [x] or [])."""
    if e.many:
        return e.col
    return F.array_compact(F.array(e.col))


def items(e: Expr, numeric: bool) -> Column:
    """The collection as an array, numbers cast to DECIMAL_TYPE so integers and decimals compare."""
    arr = to_array(e)
    return F.transform(arr, lambda v: v.cast(DECIMAL_TYPE)) if numeric else arr


def singleton(e: Expr, what: str) -> Column:
    """The only item, null when empty; a runtime error (not a silent pick) when there are several."""
    if e.type == EMPTY:
        return F.lit(None)
    if e.type == CHOICE:
        raise UnsupportedViewError(f"choice element '{choice_base(e)}[x]' used without ofType(); {what}")
    if not e.many:
        return e.col
    message = F.lit(f"{RUNTIME_ERROR_PREFIX} {what} returned more than one item")
    return F.when(F.size(e.col) > 1, F.raise_error(message)).otherwise(F.try_element_at(e.col, F.lit(1)))


def as_boolean(e: Expr, what: str, env: Env) -> Column:
    """FHIRPath singleton evaluation of a collection where a Boolean is expected."""
    if e.type == EMPTY:
        return F.lit(None).cast(T.BooleanType())
    if e.type == "boolean":
        return singleton(e, what)
    if e.type == CHOICE:
        raise UnsupportedViewError(f"choice element used as a Boolean without ofType() in {what}", env.loc)
    # A single non-Boolean item counts as true (FHIRPath §"Singleton Evaluation of Collections").
    return F.when(singleton(e, what).isNotNull(), F.lit(True))


def number(col: Column, e: Expr) -> Column:
    """A numeric column: JSON-text decimals are cast to DECIMAL_TYPE."""
    return col.cast(DECIMAL_TYPE) if e.raw_decimal else col


def map_items(e: Expr, fn: Callable[[Column], Column]) -> Column:
    """Apply `fn` to each item (keeping the collection's shape), dropping null results."""
    if not e.many:
        return fn(e.col)
    return F.array_compact(F.transform(e.col, fn))
