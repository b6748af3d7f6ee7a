"""FHIRPath AST -> Spark Column expressions, with FHIRPath collection semantics.

Every compiled value is an `Expr`: a Spark Column plus what is statically known about it: its FHIR type
(from the FHIR model) and whether it can hold more than one item. A singleton is a nullable scalar or
struct column (null = empty collection); a collection is an array column (null or [] = empty).
Iteration uses higher-order functions (`transform`, `filter`, `exists`), never Python UDFs, so a view
runs as one projection over the parsed resource.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import fhirpath as fp
from spark_jobs.sof import model
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.schema import DECIMAL_TYPE, SchemaNode, SchemaTree

log = logging.getLogger(__name__)

EMPTY = "empty"  # type of a collection known to be empty (unknown element, `{}`)
CHOICE = "choice"  # type of a bare polymorphic element (`value` of `value[x]`) before ofType()
_STRINGISH = model.PRIMITIVE_TYPES - model.INTEGER_TYPES - {"boolean", "decimal"}
_SYSTEM_TYPES = {"string": "string", "integer": "integer", "decimal": "decimal", "boolean": "boolean",
                 "date": "date", "datetime": "dateTime", "time": "time"}
# A literal reference key: `[base/]Type/id[/_history/vid]`, or `urn:uuid:<id>` (bundles, Synthea).
_REFERENCE_RE = r"^(?:[^?#]*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
_URN_RE = r"^urn:uuid:([A-Za-z0-9\-.]{1,64})$"


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


@lru_cache(maxsize=1024)
def _warn_unknown(type_code: str, name: str, loc: str) -> None:
    log.warning("%s has no element '%s' (%s): it evaluates to empty", type_code, name, loc)


def empty() -> Expr:
    return Expr(F.lit(None), False, EMPTY)


def kind(type_code: str) -> str:
    """Comparison family of a type: boolean, number, string, complex, empty, choice."""
    if type_code in (EMPTY, CHOICE, "boolean"):
        return type_code
    if type_code in model.INTEGER_TYPES or type_code == "decimal":
        return "number"
    if type_code in _STRINGISH:
        return "string"
    return "complex"


# ------------------------------------------------------------------------------------ collections


def size(e: Expr) -> Column:
    if e.type == EMPTY:
        return F.lit(0)
    if e.many:
        return F.when(e.col.isNull(), F.lit(0)).otherwise(F.size(e.col))
    return F.when(e.col.isNull(), F.lit(0)).otherwise(F.lit(1))


def exists(e: Expr) -> Column:
    if e.type == CHOICE:
        parent, choice_def = e.choice  # type: ignore[misc]
        variants = [exists(member_elem(parent, v, "")) for v in choice_def.variants.values()]
        out = variants[0]
        for v in variants[1:]:
            out = out | v
        return out
    return size(e) > 0


def to_array(e: Expr) -> Column:
    """The collection as an array column (singletons become [x] or [])."""
    if e.many:
        return e.col
    return F.array_compact(F.array(e.col))


def singleton(e: Expr, what: str) -> Column:
    """The only item, null when empty; a runtime error (not a silent pick) when there are several."""
    if e.type == EMPTY:
        return F.lit(None)
    if e.type == CHOICE:
        raise UnsupportedViewError(f"choice element '{e.choice[1].base}[x]' used without ofType(); {what}")  # type: ignore[index]
    if not e.many:
        return e.col
    message = F.lit(f"SQL-on-FHIR: {what} returned more than one item")
    return F.when(F.size(e.col) > 1, F.raise_error(message)).otherwise(F.try_element_at(e.col, F.lit(1)))


def number(col: Column, e: Expr) -> Column:
    """A numeric column: JSON-text decimals are cast to DECIMAL_TYPE."""
    return col.cast(DECIMAL_TYPE) if e.raw_decimal else col


def _map(e: Expr, fn: Callable[[Column], Column]) -> Column:
    """Apply `fn` to each item (keeping the collection's shape), dropping null results."""
    if not e.many:
        return fn(e.col)
    return F.array_compact(F.transform(e.col, fn))


# --------------------------------------------------------------------------------------- navigation


def member(e: Expr, name: str, env: Env) -> Expr:
    if e.type == EMPTY:
        return e
    if e.type == CHOICE:
        raise UnsupportedViewError(
            f"choice element '{e.choice[1].base}[x]' navigated to '{name}' without ofType()", env.loc)  # type: ignore[index]
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


# -------------------------------------------------------------------------------------- compilation


def compile_path(text: str, focus: Expr, env: Env) -> Expr:
    """Compile a FHIRPath expression evaluated against `focus` (the context item)."""
    try:
        ast = fp.parse(text)
    except ViewDefinitionError as err:
        raise type(err)(err.message, env.loc) from None
    return compile_ast(ast, focus, env.at(focus))


def compile_ast(node: fp.Node, focus: Expr, env: Env) -> Expr:
    match node:
        case fp.Literal(value=value, type=type_):
            return _literal(value, type_)
        case fp.EmptyLiteral():
            return empty()
        case fp.Identifier(name=name):
            if focus.resource and name == focus.type:
                return focus  # `Patient.name`: the type name selects the resource itself
            return member(focus, name, env)
        case fp.Member(target=target, name=name):
            return member(compile_ast(target, focus, env), name, env)
        case fp.Variable(name=name):
            if name == "$this":
                return env.this or focus
            raise UnsupportedViewError(f"FHIRPath variable '{name}'", env.loc)
        case fp.Constant(name=name):
            return _constant(name, env)
        case fp.Index(target=target, index=index):
            return _index(compile_ast(target, focus, env), compile_ast(index, focus, env), env)
        case fp.Call(target=target, name=name, args=args):
            subject = focus if target is None else compile_ast(target, focus, env)
            return call(name, subject, args, focus, env)
        case fp.Unary(op=op, operand=operand):
            value = compile_ast(operand, focus, env)
            if kind(value.type) not in ("number", EMPTY):
                raise ViewDefinitionError(f"unary '{op}' needs a number, got {value.type}", env.loc)
            col = number(singleton(value, f"operand of unary '{op}'"), value)
            return replace(value, col=-col if op == "-" else col, many=False, raw_decimal=False)
        case fp.TypeOp(op=op, operand=operand, type_name=type_name):
            value = of_type(compile_ast(operand, focus, env), type_name, env.loc, env.tree.fhir_version)
            if op == "is":
                return Expr(exists(value), False, "boolean")
            return value
        case fp.Binary(op=op, left=left, right=right):
            return binary(op, compile_ast(left, focus, env), compile_ast(right, focus, env), env)
    raise UnsupportedViewError(f"FHIRPath construct {type(node).__name__}", env.loc)


def _literal(value: object, type_: str) -> Expr:
    if type_ == "decimal":
        return Expr(F.lit(Decimal(str(value))).cast(DECIMAL_TYPE), False, "decimal")
    if type_ == "integer":
        return Expr(F.lit(value).cast(T.LongType()), False, "integer")
    return Expr(F.lit(value), False, type_)


def _constant(name: str, env: Env) -> Expr:
    if name == "rowIndex":
        return Expr(env.row_index, False, "integer")
    if name in ("resource", "rootResource", "context"):
        return env.root
    if name in env.constants:
        return env.constants[name]
    raise ViewDefinitionError(f"undefined constant '%{name}'", env.loc)


def _index(target: Expr, index: Expr, env: Env) -> Expr:
    if target.type == CHOICE:
        raise UnsupportedViewError("indexer on a choice element without ofType()", env.loc)
    if kind(index.type) != "number":
        raise ViewDefinitionError("an indexer needs an integer", env.loc)
    i = singleton(index, "indexer").cast(T.IntegerType())
    # try_element_at: 1-based, null when out of range (also under ANSI mode)
    col = F.when(i >= 0, F.try_element_at(target.col, i + 1)) if target.many else F.when(i == 0, target.col)
    return replace(target, col=col, many=False)


# ---------------------------------------------------------------------------------------- functions


def _arity(name: str, args: tuple, lo: int, hi: int, env: Env) -> None:
    if not lo <= len(args) <= hi:
        expected = str(lo) if lo == hi else f"{lo}..{hi}"
        raise ViewDefinitionError(f"{name}() takes {expected} argument(s), got {len(args)}", env.loc)


def _const_string(arg: fp.Node, focus: Expr, env: Env, fn: str) -> Column:
    value = compile_ast(arg, focus, env)
    if kind(value.type) != "string":
        raise ViewDefinitionError(f"{fn}() needs a string argument", env.loc)
    return singleton(value, f"argument of {fn}()")


def _where(e: Expr, criteria: fp.Node, env: Env) -> Expr:
    if e.type == EMPTY:
        return e

    def test(x: Column) -> Column:
        item = e.item(x)
        return F.coalesce(as_boolean(compile_ast(criteria, item, env.at(item)), "where() criteria", env),
                          F.lit(False))

    if e.many:
        return replace(e, col=F.filter(e.col, test))
    return replace(e, col=F.when(test(e.col), e.col))


_CHOICE_FUNCTIONS = {"ofType", "as", "is", "exists", "empty", "hasValue"}


def call(name: str, e: Expr, args: tuple[fp.Node, ...], focus: Expr, env: Env) -> Expr:
    if e.type == CHOICE and name in _FUNCTIONS and name not in _CHOICE_FUNCTIONS:
        raise UnsupportedViewError(
            f"{name}() on choice element '{e.choice[1].base}[x]' without ofType()", env.loc)  # type: ignore[index]
    if name == "where":
        _arity(name, args, 1, 1, env)
        return _where(e, args[0], env)
    if name in ("exists", "empty"):
        _arity(name, args, 0, 1, env)
        found = exists(_where(e, args[0], env) if args else e)
        return Expr(found if name == "exists" else ~found, False, "boolean")
    if name in ("first", "last"):
        _arity(name, args, 0, 0, env)
        if not e.many:
            return e
        return replace(e, col=F.try_element_at(e.col, F.lit(1 if name == "first" else -1)), many=False)
    if name == "count":
        _arity(name, args, 0, 0, env)
        return Expr(size(e), False, "integer")
    if name == "not":
        _arity(name, args, 0, 0, env)
        return Expr(~as_boolean(e, "not()", env), False, "boolean")
    if name == "join":
        _arity(name, args, 0, 1, env)
        if kind(e.type) not in ("string", EMPTY):
            raise ViewDefinitionError(f"join() needs strings, got {e.type}", env.loc)
        sep = _const_string(args[0], focus, env, "join") if args else F.lit("")
        joined = F.lit("") if e.type == EMPTY else F.call_function("array_join", to_array(e), sep)
        return Expr(F.coalesce(joined, F.lit("")), False, "string")
    if name in ("ofType", "as", "is"):
        _arity(name, args, 1, 1, env)
        type_name = fp.type_name_of(args[0])
        if type_name is None:
            raise ViewDefinitionError(f"{name}() needs a type name", env.loc)
        value = of_type(e, type_name, env.loc, env.tree.fhir_version)
        return Expr(exists(value), False, "boolean") if name == "is" else value
    if name == "extension":
        _arity(name, args, 1, 1, env)
        url = _const_string(args[0], focus, env, "extension")
        extensions = member(e, "extension", env)
        if extensions.type == EMPTY:
            return extensions
        url_of = model.element("Extension", "url", env.tree.fhir_version)
        extensions.node.register(url_of)  # type: ignore[union-attr]
        return replace(extensions, col=F.filter(extensions.col, lambda x: x.getField("url") == url))
    if name == "getResourceKey":
        _arity(name, args, 0, 0, env)
        if not e.resource:
            raise ViewDefinitionError("getResourceKey() must be called on a resource", env.loc)
        return member(e, "id", env)
    if name == "getReferenceKey":
        _arity(name, args, 0, 1, env)
        return _reference_key(e, fp.type_name_of(args[0]) if args else None, env)
    if name in ("lowBoundary", "highBoundary"):
        _arity(name, args, 0, 0, env)
        return _boundary(e, name == "lowBoundary", env)
    if name == "hasValue":
        _arity(name, args, 0, 0, env)
        return Expr(exists(e), False, "boolean")
    raise UnsupportedViewError(f"FHIRPath function '{name}()'", env.loc)


_FUNCTIONS = {"where", "exists", "empty", "first", "last", "count", "not", "join", "ofType", "as", "is",
              "extension", "getResourceKey", "getReferenceKey", "lowBoundary", "highBoundary", "hasValue"}


def _reference_key(e: Expr, type_name: str | None, env: Env) -> Expr:
    if e.type == EMPTY:
        return e
    if e.type != "Reference":
        raise ViewDefinitionError(f"getReferenceKey() must be called on a Reference, got {e.type}", env.loc)
    for name in ("reference", "type"):
        e.node.register(model.element("Reference", name, env.tree.fhir_version))  # type: ignore[union-attr]
    wanted = type_name.split(".")[-1] if type_name else None

    def key(ref: Column) -> Column:
        reference = ref.getField("reference")
        literal_type = F.regexp_extract(reference, _REFERENCE_RE, 1)
        literal_id = F.regexp_extract(reference, _REFERENCE_RE, 2)
        urn_id = F.regexp_extract(reference, _URN_RE, 1)
        ref_type = F.coalesce(ref.getField("type"), F.when(literal_type != "", literal_type))
        ref_id = F.when(literal_id != "", literal_id).when(urn_id != "", urn_id)
        if wanted is None:
            return ref_id
        # The declared/parsed type must match; an untyped urn:uuid reference is accepted as is.
        return F.when(ref_type.isNull() | (ref_type == wanted), ref_id)

    return Expr(_map(e, key), e.many, "string")


def _boundary(e: Expr, low: bool, env: Env) -> Expr:
    t = e.type
    if t == EMPTY:
        return e
    if t == "decimal" and e.raw_decimal:
        fn = _decimal_boundary
        out = "decimal"
    elif t in ("date", "dateTime", "instant", "time"):
        fn = {"date": _date_boundary, "time": _time_boundary}.get(t, _datetime_boundary)
        out = t
    else:
        raise UnsupportedViewError(f"{'low' if low else 'high'}Boundary() of type '{t}'", env.loc)
    return Expr(_map(e, lambda c: fn(c, low)), e.many, out)


def _decimal_boundary(text: Column, low: bool) -> Column:
    # Half a unit of the last written digit: 1.0 -> [0.95, 1.05]; computed on the JSON text, exactly.
    digits = F.when(F.instr(text, ".") > 0, F.length(F.substring_index(text, ".", -1))).otherwise(0)
    half = F.concat(F.lit("0."), F.call_function("repeat", F.lit("0"), digits), F.lit("5")).cast(DECIMAL_TYPE)
    value = text.cast(DECIMAL_TYPE)
    return value - half if low else value + half


def _date_boundary(text: Column, low: bool) -> Column:
    if low:
        return (F.when(F.length(text) == 4, F.concat(text, F.lit("-01-01")))
                .when(F.length(text) == 7, F.concat(text, F.lit("-01"))).otherwise(text))
    month_end = F.date_format(F.last_day(F.to_date(F.concat(text, F.lit("-01")), "yyyy-MM-dd")), "yyyy-MM-dd")
    return (F.when(F.length(text) == 4, F.concat(text, F.lit("-12-31")))
            .when(F.length(text) == 7, month_end).otherwise(text))


_TIME_RE = r"^(\d{2})(?::(\d{2}))?(?::(\d{2}))?(?:\.(\d+))?$"


def _time_boundary(text: Column, low: bool) -> Column:
    def part(i: int) -> Column:
        return F.regexp_extract(text, _TIME_RE, i)

    fill = "00" if low else "59"
    ms = F.rpad(part(4), 3, "0" if low else "9")
    minutes = F.when(part(2) == "", F.lit(fill)).otherwise(part(2))
    seconds = F.when(part(3) == "", F.lit(fill)).otherwise(part(3))
    out = F.concat_ws("", part(1), F.lit(":"), minutes, F.lit(":"), seconds, F.lit("."), ms)
    return F.when(F.regexp_like(text, F.lit(_TIME_RE)), out)


_DATETIME_RE = r"^([0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)(?:T([0-9:.]+))?(Z|[+-][0-9]{2}:[0-9]{2})?$"


def _datetime_boundary(text: Column, low: bool) -> Column:
    # Unknown parts take their extreme: earliest instant at +14:00, latest at -12:00 (FHIRPath spec).
    date = _date_boundary(F.regexp_extract(text, _DATETIME_RE, 1), low)
    time = F.regexp_extract(text, _DATETIME_RE, 2)
    zone = F.regexp_extract(text, _DATETIME_RE, 3)
    clock = F.when(time == "", F.lit("00:00:00.000" if low else "23:59:59.999")).otherwise(
        _time_boundary(time, low))
    offset = F.when(zone == "", F.lit("+14:00" if low else "-12:00")).otherwise(zone)
    return F.when(F.regexp_like(text, F.lit(_DATETIME_RE)), F.concat(date, F.lit("T"), clock, offset))


# ---------------------------------------------------------------------------------------- operators


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


def _comparable(left: Expr, right: Expr, op: str, env: Env) -> tuple[str, str]:
    lk, rk = kind(left.type), kind(right.type)
    for k, e in ((lk, left), (rk, right)):
        if k == "complex":
            raise UnsupportedViewError(f"operator '{op}' on complex type '{e.type}'", env.loc)
        if k == CHOICE:
            raise UnsupportedViewError(f"operator '{op}' on a choice element without ofType()", env.loc)
    return lk, rk


def _items(e: Expr, numeric: bool) -> Column:
    arr = to_array(e)
    return F.transform(arr, lambda v: v.cast(DECIMAL_TYPE)) if numeric else arr


def _equality(left: Expr, right: Expr, op: str, env: Env) -> Column:
    lk, rk = _comparable(left, right, op, env)
    if EMPTY in (lk, rk):
        return F.lit(None).cast(T.BooleanType())
    if lk != rk:
        # Different types are never equal; empty still gives empty.
        return F.when((size(left) > 0) & (size(right) > 0), F.lit(False))
    numeric = lk == "number"
    if not left.many and not right.many:
        lc, rc = left.col, right.col
        if numeric:
            lc, rc = lc.cast(DECIMAL_TYPE), rc.cast(DECIMAL_TYPE)
        if op in ("~", "!~"):
            lc, rc = _equivalence_key(lc, lk), _equivalence_key(rc, rk)
            return lc.eqNullSafe(rc)
        return lc == rc
    # Collections are equal when they hold the same items in the same order.
    la, ra = _items(left, numeric), _items(right, numeric)
    if op in ("~", "!~"):
        la = F.transform(la, lambda v: _equivalence_key(v, lk))
        ra = F.transform(ra, lambda v: _equivalence_key(v, rk))
        return F.coalesce(la, F.array()) == F.coalesce(ra, F.array())
    return F.when((size(left) == 0) | (size(right) == 0), F.lit(None)).otherwise(la == ra)


def _equivalence_key(c: Column, k: str) -> Column:
    # `~`: strings compare case-insensitively with normalized whitespace.
    return F.lower(F.regexp_replace(F.trim(c), r"\s+", " ")) if k == "string" else c


def _order(left: Expr, right: Expr, op: str, env: Env) -> Column:
    lk, rk = _comparable(left, right, op, env)
    if EMPTY in (lk, rk):
        return F.lit(None).cast(T.BooleanType())
    if lk != rk or lk == "boolean":
        raise ViewDefinitionError(f"operator '{op}' cannot compare {left.type} with {right.type}", env.loc)
    lc = singleton(left, f"left operand of '{op}'")
    rc = singleton(right, f"right operand of '{op}'")
    if lk == "number":
        lc, rc = lc.cast(DECIMAL_TYPE), rc.cast(DECIMAL_TYPE)
    return {"<": lc < rc, "<=": lc <= rc, ">": lc > rc, ">=": lc >= rc}[op]


def _arithmetic(left: Expr, right: Expr, op: str, env: Env) -> Expr:
    lk, rk = _comparable(left, right, op, env)
    if EMPTY in (lk, rk):
        return empty()
    lc = singleton(left, f"left operand of '{op}'")
    rc = singleton(right, f"right operand of '{op}'")
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


def _membership(item: Expr, collection: Expr, op: str, env: Env) -> Column:
    ik, ck = _comparable(item, collection, op, env)
    if ik == EMPTY:
        return F.lit(None).cast(T.BooleanType())
    if ck == EMPTY:
        return F.lit(False)
    if ik != ck:
        return F.lit(False)
    numeric = ik == "number"
    value = singleton(item, f"left operand of '{op}'")
    value = value.cast(DECIMAL_TYPE) if numeric else value
    return F.exists(_items(collection, numeric), lambda v: v == value)


def binary(op: str, left: Expr, right: Expr, env: Env) -> Expr:
    if op in ("and", "or", "xor", "implies"):
        lb, rb = as_boolean(left, f"operand of '{op}'", env), as_boolean(right, f"operand of '{op}'", env)
        col = {"and": lb & rb, "or": lb | rb, "xor": lb != rb, "implies": ~lb | rb}[op]
        if op == "implies":
            col = F.when(lb == F.lit(False), F.lit(True)).otherwise(col)
        return Expr(col, False, "boolean")
    if op in ("=", "!=", "~", "!~"):
        eq = _equality(left, right, op, env)
        return Expr(~eq if op in ("!=", "!~") else eq, False, "boolean")
    if op in ("<", "<=", ">", ">="):
        return Expr(_order(left, right, op, env), False, "boolean")
    if op in ("+", "-", "*", "/", "div", "mod"):
        return _arithmetic(left, right, op, env)
    if op == "&":
        for e in (left, right):
            if kind(e.type) not in ("string", EMPTY):
                raise ViewDefinitionError(f"operator '&' needs strings, got {e.type}", env.loc)
        parts = [F.coalesce(singleton(e, "operand of '&'"), F.lit("")) for e in (left, right)]
        return Expr(F.concat(*parts), False, "string")
    if op in ("in", "contains"):
        item, coll = (left, right) if op == "in" else (right, left)
        return Expr(_membership(item, coll, op, env), False, "boolean")
    if op == "|":
        lk, rk = _comparable(left, right, op, env)
        if lk == EMPTY:
            return right
        if rk == EMPTY:
            return left
        if lk != rk:
            raise UnsupportedViewError(f"union '|' of {left.type} and {right.type}", env.loc)
        numeric = lk == "number"
        col = F.array_distinct(F.concat(*[F.coalesce(_items(e, numeric), F.array()) for e in (left, right)]))
        return Expr(col, True, "decimal" if numeric else left.type)
    raise UnsupportedViewError(f"FHIRPath operator '{op}'", env.loc)
