"""Member access (`name.given`), choice elements (`value[x]`) and type selection (`ofType`)."""

from __future__ import annotations

import logging
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.sof import model
from spark_jobs.sof.compiler.exprs import CHOICE, EMPTY, Env, Expr, choice_base, empty, kind, size
from spark_jobs.sof.errors import UnsupportedViewError

log = logging.getLogger(__package__)  # "spark_jobs.sof.compiler", the logger name before the split

_SYSTEM_TYPES = {"string": "string", "integer": "integer", "decimal": "decimal", "boolean": "boolean",
                 "date": "date", "datetime": "dateTime", "time": "time"}


@lru_cache(maxsize=1024)
def _warn_unknown(type_code: str, name: str, loc: str) -> None:
    log.warning("%s has no element '%s' (%s): it evaluates to empty", type_code, name, loc)


def exists(e: Expr) -> Column:
    if e.type == CHOICE:
        parent, choice_def = e.choice  # type: ignore[misc]
        variants = [exists(member_elem(parent, v, "")) for v in choice_def.variants.values()]
        out = variants[0]
        for v in variants[1:]:
            out = out | v
        return out
    return size(e) > 0


def member(e: Expr, name: str, env: Env) -> Expr:
    if e.type == EMPTY:
        return e
    if e.type == CHOICE:
        raise UnsupportedViewError(
            f"choice element '{choice_base(e)}[x]' navigated to '{name}' without ofType()", env.loc)
    if kind(e.type) != "complex":
        raise UnsupportedViewError(f"member '{name}' of primitive type '{e.type}'", env.loc)
    elem = model.element(e.type, name, env.tree.fhir_version)
    if elem is None:
        choice_def = model.choice(e.type, name, env.tree.fhir_version)
        if choice_def is not None:
            return Expr(F.lit(None), e.many, CHOICE, choice=(e, choice_def))
        # FHIRPath: an element the type does not define is an empty collection, not an error.
        if env.warn_unknown:
            _warn_unknown(e.type, name, env.loc)
        return empty()
    return member_elem(e, elem, env.loc)


def member_elem(e: Expr, elem: model.ElementDef, loc: str) -> Expr:
    if elem.type == "Resource":
        raise UnsupportedViewError(f"navigating into the contained resources of '{elem.name}'", loc)
    assert e.node is not None, f"complex expression without schema node: {e.type}"
    sf = e.node.register(elem)

    def get(x: Column) -> Column:
        c = x.getField(elem.name)
        if sf.json:  # recursive type kept as JSON text: parse with the shared struct
            struct = sf.node.struct_type()  # type: ignore[union-attr]
            c = F.transform(c, lambda s: F.from_json(s, struct)) if elem.many else F.from_json(c, struct)
        return c

    if not e.many:
        col = get(e.col)
    elif sf.json:
        col = F.transform(e.col, get)
        col = F.flatten(F.array_compact(col)) if elem.many else col
    else:
        # An array of structs gives the array of a field's values directly (no lambda needed).
        col = e.col.getField(elem.name)
        col = F.flatten(F.array_compact(col)) if elem.many else col
    if e.many or elem.many:
        col = F.array_compact(col)  # JSON nulls (e.g. `given: [null, "A"]`) are no items
    return Expr(col, e.many or elem.many, elem.type, sf.node, raw_decimal=elem.type == "decimal")


def of_type(e: Expr, type_name: str, loc: str, version: str = model.DEFAULT_FHIR_VERSION) -> Expr:
    name = type_name.split(".")[-1]
    if e.type == CHOICE:
        parent, choice_def = e.choice  # type: ignore[misc]
        variant = choice_def.variants.get(name.lower())
        return member_elem(parent, variant, loc) if variant else empty()
    if e.type == EMPTY:
        return e
    if e.type.lower() == name.lower() or _SYSTEM_TYPES.get(name.lower()) == e.type:
        return e
    if kind(e.type) == "complex" and not model.is_known_type(name, version):
        raise UnsupportedViewError(f"ofType({type_name}): unknown type", loc)
    return empty()
