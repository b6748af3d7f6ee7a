"""FHIRPath binary operators: Boolean logic, equality/equivalence, ordering, arithmetic, string
concatenation, membership and union, each over FHIRPath collections (empty in -> empty out)."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import model
from spark_jobs.sof.compiler.exprs import (
    CHOICE,
    EMPTY,
    Env,
    Expr,
    as_boolean,
    boolean,
    empty,
    items,
    kind,
    number,
    singleton,
    size,
)
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.schema import DECIMAL_TYPE

Operator = Callable[[str, Expr, Expr, Env], Expr]


def binary(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    operator = _OPERATORS.get(op)
    if operator is None:
        raise UnsupportedViewError(f"FHIRPath operator '{op}'", env.loc)
    return operator(op, left, right, env)


def _empty_boolean() -> Column:
    return F.lit(None).cast(T.BooleanType())


def _comparable(left: Expr, right: Expr, op: str, env: Env) -> tuple[str, str]:
    lk, rk = kind(left.type), kind(right.type)
    for k, e in ((lk, left), (rk, right)):
        if k == "complex":
            raise UnsupportedViewError(f"operator '{op}' on complex type '{e.type}'", env.loc)
        if k == CHOICE:
            raise UnsupportedViewError(f"operator '{op}' on a choice element without ofType()", env.loc)
    return lk, rk


def _operands(left: Expr, right: Expr, op: str) -> tuple[Column, Column]:
    return singleton(left, f"left operand of '{op}'"), singleton(right, f"right operand of '{op}'")


def _logic(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    lb, rb = as_boolean(left, f"operand of '{op}'", env), as_boolean(right, f"operand of '{op}'", env)
    col = {"and": lb & rb, "or": lb | rb, "xor": lb != rb, "implies": ~lb | rb}[op]
    if op == "implies":
        col = F.when(lb == F.lit(False), F.lit(True)).otherwise(col)
    return boolean(col)


def _equals(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    eq = _equality(left, right, op, env)
    return boolean(~eq if op in ("!=", "!~") else eq)


def _equality(left: Expr, right: Expr, op: str, env: Env) -> Column:
    lk, rk = _comparable(left, right, op, env)
    equivalence = op in ("~", "!~")
    if equivalence and (EMPTY in (lk, rk) or lk != rk):
        # `~` of an empty operand or of different types: true exactly when both are empty
        return (size(left) == 0) & (size(right) == 0)
    if EMPTY in (lk, rk):
        return _empty_boolean()  # `=` with an empty operand is empty
    if lk != rk:
        # Different types are never equal; empty still gives empty.
        return F.when((size(left) > 0) & (size(right) > 0), F.lit(False))
    numeric = lk == "number"
    if not left.many and not right.many:
        lc, rc = left.col, right.col
        if numeric:
            lc, rc = lc.cast(DECIMAL_TYPE), rc.cast(DECIMAL_TYPE)
        if equivalence:
            return _equivalence_key(lc, lk).eqNullSafe(_equivalence_key(rc, rk))
        return lc == rc
    # Collections are equal when they hold the same items in the same order.
    la, ra = items(left, numeric), items(right, numeric)
    if equivalence:
        la = F.transform(la, lambda v: _equivalence_key(v, lk))
        ra = F.transform(ra, lambda v: _equivalence_key(v, rk))
        return F.coalesce(la, F.array()) == F.coalesce(ra, F.array())
    return F.when((size(left) == 0) | (size(right) == 0), F.lit(None)).otherwise(la == ra)


def _equivalence_key(c: Column, k: str) -> Column:
    # `~`: strings compare case-insensitively with normalized whitespace (runs of any whitespace -> one
    # space, then trimmed: trimming first would only strip spaces, not tabs or newlines).
    return F.lower(F.trim(F.regexp_replace(c, r"\s+", " "))) if k == "string" else c


def _order(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    lk, rk = _comparable(left, right, op, env)
    if EMPTY in (lk, rk):
        return boolean(_empty_boolean())
    if lk != rk or lk == "boolean":
        raise ViewDefinitionError(f"operator '{op}' cannot compare {left.type} with {right.type}", env.loc)
    lc, rc = _operands(left, right, op)
    if lk == "number":
        lc, rc = lc.cast(DECIMAL_TYPE), rc.cast(DECIMAL_TYPE)
    return boolean({"<": lc < rc, "<=": lc <= rc, ">": lc > rc, ">=": lc >= rc}[op])


def _arithmetic(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    lk, rk = _comparable(left, right, op, env)
    if EMPTY in (lk, rk):
        return empty()
    lc, rc = _operands(left, right, op)
    if op == "+" and lk == rk == "string":
        return Expr(F.concat(lc, rc), False, "string")
    if lk != "number" or rk != "number":
        raise ViewDefinitionError(f"operator '{op}' needs numbers, got {left.type} and {right.type}", env.loc)
    integral = left.type in model.INTEGER_TYPES and right.type in model.INTEGER_TYPES
    lc, rc = number(lc, left), number(rc, right)
    if op == "/":
        return Expr(lc.cast(DECIMAL_TYPE) / rc.cast(DECIMAL_TYPE), False, "decimal")
    if op == "div":  # truncated toward zero; x div 0 is empty
        quotient = lc / rc
        col = F.when(rc != 0, F.when(quotient >= 0, F.floor(quotient)).otherwise(F.ceil(quotient)))
        return Expr(col.cast(T.LongType() if integral else DECIMAL_TYPE), False, "integer" if integral else "decimal")
    col = F.when(rc != 0, lc % rc) if op == "mod" else {"+": lc + rc, "-": lc - rc, "*": lc * rc}[op]
    return Expr(col, False, "integer" if integral else "decimal")


def _concat(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    """`&`: string concatenation where an empty operand counts as ''."""
    for e in (left, right):
        if kind(e.type) not in ("string", EMPTY):
            raise ViewDefinitionError(f"operator '&' needs strings, got {e.type}", env.loc)
    parts = [F.coalesce(singleton(e, "operand of '&'"), F.lit("")) for e in (left, right)]
    return Expr(F.concat(*parts), False, "string")


def _membership(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    """`item in collection` / `collection contains item`."""
    item, collection = (left, right) if op == "in" else (right, left)
    ik, ck = _comparable(item, collection, op, env)
    if ik == EMPTY:
        return boolean(_empty_boolean())
    numeric = ik == "number"
    value = singleton(item, f"{'left' if op == 'in' else 'right'} operand of '{op}'")
    value = value.cast(DECIMAL_TYPE) if numeric else value
    if ck == EMPTY or ik != ck:
        found = F.lit(False)
    else:  # an empty (null) collection holds nothing: false, not empty
        found = F.coalesce(F.exists(items(collection, numeric), lambda v: v == value), F.lit(False))
    return boolean(F.when(value.isNotNull(), found))  # an empty item: empty


def _union(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    lk, rk = _comparable(left, right, op, env)
    if lk == EMPTY:
        return right
    if rk == EMPTY:
        return left
    if lk != rk:
        raise UnsupportedViewError(f"union '|' of {left.type} and {right.type}", env.loc)
    numeric = lk == "number"
    col = F.array_distinct(F.concat(*[F.coalesce(items(e, numeric), F.array()) for e in (left, right)]))
    return Expr(col, True, "decimal" if numeric else left.type)


_OPERATORS: dict[str, Operator] = {
    **dict.fromkeys(("and", "or", "xor", "implies"), _logic),
    **dict.fromkeys(("=", "!=", "~", "!~"), _equals),
    **dict.fromkeys(("<", "<=", ">", ">="), _order),
    **dict.fromkeys(("+", "-", "*", "/", "div", "mod"), _arithmetic),
    "&": _concat,
    **dict.fromkeys(("in", "contains"), _membership),
    "|": _union,
}
