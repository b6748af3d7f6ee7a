"""FHIRPath compilation (`spark_jobs/sof`) against a plain-Python FHIRPath evaluator, at the ViewDefinition level.

Each example draws ~30 small FHIR-like Patients or Observations (arrays missing, empty, with one or several
items or JSON nulls; choice elements; extensions nested in extensions; decimals written as exact JSON
text such as `1.10`, `1e2` or `12345678901234567.25`) and one ViewDefinition whose columns are ~30
random FHIRPath expressions (paths, `where`, `exists`/`empty`/`hasValue`, `first`/`last`/indexers,
`count`, `join`, `ofType`/`as`/`is`, `extension(url)`, `getResourceKey`/`getReferenceKey`,
`lowBoundary`/`highBoundary`, `and`/`or`/`xor`/`implies`/`not()`, `=`/`!=`/`~`/`!~`, ordering, arithmetic,
`&`, `in`/`contains`, `|`, `{}`, `$this`, `%rowIndex`, `%resource`), plus maybe a `forEach` or
`forEachOrNull` with its own columns and a view-level `where`. The view runs in ONE Spark job; every row and
column must equal what the evaluator below computes (it imports no project code): a column's value is its
single item or null, a `collection: true` column the list of items.

The evaluator follows FHIRPath (N1) with the singleton rule: where one item is needed (a non-collection
column, an operand of `and` or `<`, a `where` criteria...) several items are an error. Columns whose value
is an error for some row leave the main view; one of them must then make a second, one-column view fail
with the engine's "returned more than one item". Where the error depends on evaluation order (an operand
the engine may skip: `false and <error>`, `{} + <error>`, `<error> in {}`, `<error> / 0`), the column is not
checked at all.

Deliberate, documented choices of the engine the evaluator follows (or that generation avoids):

- `join()` of an empty collection is '' (tests/unit/spark_jobs/sof/test_compiler.py), not empty;
- values are cast to the column's type: decimals to DECIMAL(38,10) (so data keeps at most 10 decimals),
  whose arithmetic keeps at least 6 decimals: an arithmetic result is checked only where it is exact to 6
  decimals, and `lowBoundary`/`highBoundary` of decimals only below 9 written decimals (the boundary needs
  one more digit than DECIMAL(38,10) minus its arithmetic scale keeps) and never on exponent forms;
- dates and times compare as ISO strings, not precision-aware: no date/time comparison is generated
  (boundaries of partial dates and of dateTimes without offset are checked: +14:00 low, -12:00 high);
- `~` on numbers compares values exactly (FHIRPath rounds to the least precise operand): not generated;
  `~` on strings lowercases, collapses whitespace runs to one space and trims, and is order-independent
  on collections (FHIRPath);
- a union's order is unspecified (FHIRPath): unions are only counted, tested for existence or membership;
- `ofType`/`as`/`is` only on choice elements (`value.ofType(Quantity)`); the `as`/`is` operators only on a
  statically single focus (FHIRPath makes several items an error there, the engine does not check).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyspark.sql import functions as F

from spark_jobs.sof import compile_view
from tests.unit.property.common import budget

N_RESOURCES = 30
N_COLUMNS = 28
N_EACH_COLUMNS = 8

# ------------------------------------------------------------------------------------ the FHIR model used
# type -> element -> (type, repeats); a hand-written slice of FHIR R4.
MODEL: dict[str, dict[str, tuple[str, bool]]] = {
    "Patient": {"id": ("id", False), "active": ("boolean", False), "gender": ("code", False),
                "birthDate": ("date", False), "name": ("HumanName", True), "telecom": ("ContactPoint", True),
                "extension": ("Extension", True), "managingOrganization": ("Reference", False),
                "generalPractitioner": ("Reference", True)},
    "HumanName": {"use": ("code", False), "family": ("string", False), "given": ("string", True),
                  "extension": ("Extension", True)},
    "ContactPoint": {"system": ("code", False), "value": ("string", False), "rank": ("positiveInt", False)},
    "Extension": {"url": ("uri", False), "extension": ("Extension", True)},
    "Reference": {"reference": ("string", False), "type": ("uri", False)},
    "Observation": {"id": ("id", False), "status": ("code", False), "code": ("CodeableConcept", False),
                    "category": ("CodeableConcept", True), "component": ("ObservationComponent", True),
                    "subject": ("Reference", False), "extension": ("Extension", True)},
    "ObservationComponent": {"code": ("CodeableConcept", False)},
    "CodeableConcept": {"coding": ("Coding", True), "text": ("string", False)},
    "Coding": {"system": ("uri", False), "code": ("code", False), "display": ("string", False)},
    "Quantity": {"value": ("decimal", False), "unit": ("string", False)},
}
# type -> choice element -> its variants (JSON key: element + capitalised type)
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "Patient": {"deceased": ("boolean", "dateTime"), "multipleBirth": ("boolean", "integer")},
    "Extension": {"value": ("string", "code", "boolean", "integer", "decimal", "Coding")},
    "Observation": {"value": ("Quantity", "string", "boolean", "integer", "CodeableConcept"),
                    "effective": ("dateTime",)},
    "ObservationComponent": {"value": ("Quantity", "string", "integer")},
}
KINDS = {"boolean": "boolean", "integer": "number", "positiveInt": "number", "decimal": "number",
         "string": "string", "code": "string", "uri": "string", "id": "string", "date": "date",
         "dateTime": "date"}

STRINGS = ["a", "A", "b", "a b", "A  B", " a", "a\t", "O'B", "x\\y", "é", "É"]
URLS = ["http://e/a", "http://e/b"]
DATES = ["1970", "1970-06", "1970-02-15", "2000-02", "2024-12-31", "1999-12"]
DATETIMES = ["2020-01-01", "2020-01-01T10:20:30Z", "2020-01-01T10:20:30.5+02:00", "2021-03",
             "2021-03-04T05:06:07-05:00", "2020", "2020-02-29T23:59:59"]
DECIMALS = ["0", "1", "1.0", "1.10", "1.5", "-2.25", "0.001", "100", "2.50", "1e2", "1.5E-3", "-0.5",
            "123456789.125", "0.1234567891", "3.14159265"]
REFERENCES = ["Organization/o1", "http://x/fhir/Organization/o2", "Patient/p1/_history/2", "urn:uuid:abc-1",
              "Organization?identifier=x|1", "#c1", "Practitioner/pr.1"]


def kind(type_code: str) -> str:
    return KINDS.get(type_code, "complex")


def cap(name: str) -> str:
    return name[0].upper() + name[1:]


@dataclass(frozen=True)
class Dec:
    """A JSON decimal, kept as written."""

    text: str


# ---------------------------------------------------------------------------------------------- the oracle


class Failed(Exception):
    """FHIRPath's error: one item was needed and several came."""


class Unsure(Exception):
    """Error or value depending on evaluation order (an operand that may be skipped fails): not checked."""


@dataclass(frozen=True)
class Env:
    resource: dict
    row_index: int


Run = Callable[[list, Env], list]


@dataclass(frozen=True)
class X:
    """A generated FHIRPath expression: its text, static type, whether the engine sees it as a collection
    (`many`), its precedence (12 = a term; lower ones get parentheses as operands) and its evaluator."""

    text: str
    type: str
    many: bool
    run: Run
    prec: int = 12


def num(x) -> Decimal:
    return Decimal(x.text) if isinstance(x, Dec) else Decimal(x)


def one(items: list):
    if len(items) > 1:
        raise Failed
    return items[0] if items else None


def as_bool(items: list) -> bool | None:
    item = one(items)
    return item if item is None or isinstance(item, bool) else True


def same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return num(a) == num(b)


def attempt(thunk):
    try:
        return thunk(), None
    except (Failed, Unsure) as err:
        return None, err


def members(items: list, key: str) -> list:
    out = []
    for item in items:
        value = item.get(key) if isinstance(item, dict) else None
        out.extend(v for v in (value if isinstance(value, list) else [value]) if v is not None)
    return out


def both(left: Run, right: Run, focus: list, env: Env) -> tuple[list, list]:
    """Both operands of a binary operator; an error beside an empty operand is Unsure (the engine's
    null-intolerant operators skip the second operand when the first is null)."""
    (a, ea), (b, eb) = attempt(lambda: left(focus, env)), attempt(lambda: right(focus, env))
    if ea or eb:
        if isinstance(ea, Unsure) or isinstance(eb, Unsure) or (ea and b == []) or (eb and a == []):
            raise Unsure
        raise Failed
    return a, b


def dec_result(value: Decimal) -> list:
    if value != value.quantize(Decimal("1e-6")):
        raise Unsure  # DECIMAL(38,10) arithmetic keeps 6 decimals at least, not more
    return [value]


def reference_key(ref: dict, wanted: str | None) -> str | None:
    text, explicit = ref.get("reference"), ref.get("type")
    if not isinstance(text, str) or "?" in text or "#" in text:
        return None
    if text.startswith("urn:uuid:"):
        rid, rtype = text[len("urn:uuid:"):], None
    else:
        parts = text.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        if len(parts) < 2 or not re.fullmatch(r"[A-Z][A-Za-z]+", parts[-2]):
            return None
        rtype, rid = parts[-2], parts[-1]
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", rid):
        return None
    rtype = explicit or rtype
    return rid if wanted is None or rtype is None or rtype == wanted else None


def decimal_boundary(x, low: bool):
    text = x.text if isinstance(x, Dec) else str(x)
    if "e" in text.lower():
        raise Unsure
    digits = len(text.split(".")[1]) if "." in text else 0
    if digits >= 9:
        raise Unsure
    half = Decimal(5).scaleb(-(digits + 1))
    return Decimal(text) - half if low else Decimal(text) + half


def date_boundary(text: str, low: bool) -> str:
    if len(text) == 4:
        return text + ("-01-01" if low else "-12-31")
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:])
        return text + ("-01" if low else f"-{calendar.monthrange(year, month)[1]:02d}")
    return text


def datetime_boundary(text: str, low: bool) -> str:
    m = re.fullmatch(r"([0-9-]+)(?:T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(Z|[+-]\d\d:\d\d)?", text)
    assert m, text
    date, hh, mm, ss, frac, zone = m.groups()
    if hh is None:
        clock = "00:00:00.000" if low else "23:59:59.999"
    else:
        clock = f"{hh}:{mm}:{ss}." + ((frac or "") + ("000" if low else "999"))[:3]
    return f"{date_boundary(date, low)}T{clock}{zone or ('+14:00' if low else '-12:00')}"


def equivalence_key(x):
    return " ".join(re.split(r"[ \t\r\n]+", x.strip(" \t\r\n"))).lower() if isinstance(x, str) else x


def spark_value(items, type_code: str):
    """One item as the engine's output column holds it."""
    if items is None:
        return None
    if type_code == "decimal":
        return num(items).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)
    if kind(type_code) == "number":
        return int(items)
    return items


# ------------------------------------------------------------------------------------ expression builders


def wrap(x: X, prec: int) -> str:
    return x.text if x.prec >= prec else f"({x.text})"


def postfix(x: X, suffix: str, type_code: str, many: bool, run: Run) -> X:
    return X(f"{wrap(x, 12)}{suffix}", type_code, many, run)


def literal(value, type_code: str) -> X:
    if type_code == "string":
        text = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    elif type_code == "boolean":
        text = "true" if value else "false"
    else:
        text = str(value)
    if text.startswith("-"):
        return X(text, type_code, False, lambda f, e: [value], prec=11)
    return X(text, type_code, False, lambda f, e: [value])


EMPTY_LITERAL = X("{}", "empty", False, lambda f, e: [])

# operator -> precedence (FHIRPath: `.`/indexer 12, unary 11, `*` 10, `+` 9, is/as 8, `|` 7, `<` 6, `=` 5,
# in/contains 4, and 3, or/xor 2, implies 1)
PREC = {"*": 10, "/": 10, "div": 10, "mod": 10, "+": 9, "-": 9, "&": 9, "is": 8, "as": 8, "|": 7,
        "<": 6, "<=": 6, ">": 6, ">=": 6, "=": 5, "!=": 5, "~": 5, "!~": 5, "in": 4, "contains": 4,
        "and": 3, "or": 2, "xor": 2, "implies": 1}


def binary(op: str, left: X, right: X, type_code: str, many: bool, run: Run) -> X:
    p = PREC[op]
    return X(f"{wrap(left, p)} {op} {wrap(right, p + 1)}", type_code, many, run, prec=p)


def logic(op: str, left: X, right: X) -> X:
    def run(focus, env):
        (a, ea), (b, eb) = (attempt(lambda: as_bool(left.run(focus, env))),
                            attempt(lambda: as_bool(right.run(focus, env))))
        if ea or eb:
            decided = {"and": False, "or": True}.get(op)
            other = b if ea else a
            if isinstance(ea, Unsure) or isinstance(eb, Unsure) or (not (ea and eb) and (
                    other is decided if decided is not None else op == "implies" and (a is False or b is True))):
                raise Unsure
            raise Failed
        if op == "and":
            out = False if False in (a, b) else (None if None in (a, b) else True)
        elif op == "or":
            out = True if True in (a, b) else (None if None in (a, b) else False)
        elif op == "xor":
            out = None if None in (a, b) else a != b
        else:
            out = True if a is False or b is True else (None if None in (a, b) else False)
        return [] if out is None else [out]

    return binary(op, left, right, "boolean", False, run)


def equality(op: str, left: X, right: X) -> X:
    def run(focus, env):
        a, b = both(left.run, right.run, focus, env)
        if op in ("~", "!~"):
            ka, kb = sorted(map(equivalence_key, a), key=repr), sorted(map(equivalence_key, b), key=repr)
            out = len(ka) == len(kb) and all(same(x, y) for x, y in zip(ka, kb, strict=True))
        elif not a or not b:
            return []
        else:
            out = len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return [out if op in ("=", "~") else not out]

    return binary(op, left, right, "boolean", False, run)


def order(op: str, left: X, right: X) -> X:
    def run(focus, env):
        a, b = both(left.run, right.run, focus, env)
        x, y = one(a), one(b)
        if x is None or y is None:
            return []
        x, y = num(x), num(y)
        return [{"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]]

    return binary(op, left, right, "boolean", False, run)


def arithmetic(op: str, left: X, right: X) -> X:
    integral = kind(left.type) == kind(right.type) == "number" and "decimal" not in (left.type, right.type)
    strings = kind(left.type) == "string"
    out_type = "string" if strings else ("decimal" if op == "/" or not integral else "integer")

    def run(focus, env):
        if op in ("/", "div", "mod"):
            # Spark reads a divisor first and never evaluates the dividend when it is 0: an error in the
            # dividend beside a zero divisor depends on evaluation order
            b, eb = attempt(lambda: right.run(focus, env))
            if not eb and len(b) == 1 and not isinstance(b[0], (bool, str)) and num(b[0]) == 0:
                a, ea = attempt(lambda: left.run(focus, env))
                if ea or len(a) > 1:
                    raise Unsure
        a, b = both(left.run, right.run, focus, env)
        x, y = one(a), one(b)
        if x is None or y is None:
            return []
        if strings:
            return [x + y]
        x, y = num(x), num(y)
        if op in ("div", "mod") or (op == "/" and y == 0):
            if y == 0:
                return []
            if op == "div":
                q = abs(x) // abs(y)
                return [q if (x >= 0) == (y >= 0) else -q]
            if op == "mod":
                return [x - y * int(x / y)]
        with localcontext() as ctx:
            ctx.prec = 60
            value = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None}[op]
        return [value] if integral and op != "/" else dec_result(value)

    return binary(op, left, right, out_type, False, run)


def concat(left: X, right: X) -> X:
    def run(focus, env):
        a, b = left.run(focus, env), right.run(focus, env)  # the engine evaluates both (coalesce)
        return [(one(a) or "") + (one(b) or "")]

    return binary("&", left, right, "string", False, run)


def membership(op: str, item: X, collection: X) -> X:
    def run(focus, env):
        a, b = both(item.run, collection.run, focus, env)
        if len(a) > 1:
            if not b:
                raise Unsure  # FHIRPath does not order the checks; the engine looks at the items first
            raise Failed
        if not a:
            return []
        return [any(same(a[0], y) for y in b)]

    left, right = (item, collection) if op == "in" else (collection, item)
    return binary(op, left, right, "boolean", False, run)


def union(left: X, right: X) -> X:
    def run(focus, env):
        out: list = []
        for x in left.run(focus, env) + right.run(focus, env):
            if not any(same(x, y) for y in out):
                out.append(x)
        return out

    return binary("|", left, right, "decimal" if kind(left.type) == "number" else left.type, True, run)


def member_step(base: X | None, name: str, type_code: str, many: bool, key: str | None = None) -> X:
    key = key or name

    def run(focus, env):
        return members(base.run(focus, env) if base else focus, key)

    if base is None:
        return X(name, type_code, many, run)
    return postfix(base, f".{name}", type_code, base.many or many, run)


def this() -> X:
    return X("$this", "?", False, lambda focus, env: focus)


def call(base: X, name: str, args: str, type_code: str, many: bool, fn: Callable[[list, list, Env], list]) -> X:
    """`base.name(args)`; fn(items, focus, env) computes the result from the base's items."""

    def run(focus, env):
        return fn(base.run(focus, env), focus, env)

    return postfix(base, f".{name}({args})", type_code, many, run)


def where(base: X, criteria: X, exists: bool = False) -> X:
    def fn(items, focus, env):
        kept = [x for x in items if as_bool(criteria.run([x], env)) is True]
        return [bool(kept)] if exists else kept

    return call(base, "exists" if exists else "where", criteria.text, "boolean" if exists else base.type,
                False if exists else base.many, fn)


# ---------------------------------------------------------------------------------------------- generation

Route = tuple[tuple[str, str | None, str, bool], ...]  # (element, choice type, type, repeats) steps


def routes(type_code: str, depth: int = 0, seen_extension: bool = False) -> list[Route]:
    """Every path from a type (up to 4 steps, one nested Extension.extension at most)."""
    out: list[Route] = []
    if depth == 4:
        return out
    steps = [(name, None, t, many) for name, (t, many) in MODEL.get(type_code, {}).items()]
    steps += [(base, v, v, False) for base, variants in CHOICES.get(type_code, {}).items() for v in variants]
    for step in steps:
        name, _variant, t, _many = step
        if name == "extension" and type_code == "Extension" and seen_extension:
            continue
        out.append((step,))
        if kind(t) == "complex":
            out += [(step, *rest) for rest in routes(t, depth + 1, seen_extension or name == "extension")]
    return out


ROUTES = {t: routes(t) for t in MODEL}


def leaf_routes(type_code: str, kinds: tuple[str, ...]) -> list[Route]:
    return [r for r in ROUTES[type_code] if kind(r[-1][2]) in kinds]


class Gen:
    """Draws typed expressions over a focus type; `draw` is hypothesis's."""

    def __init__(self, draw, resource: str):
        self.draw = draw
        self.resource = resource

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def chance(self, n: int) -> bool:
        return self.draw(st.integers(0, n - 1)) == 0

    def lit(self, k: str) -> X:
        if k == "string":
            return literal(self.pick(STRINGS), "string")
        if k == "boolean":
            return literal(self.draw(st.booleans()), "boolean")
        if self.chance(2):
            return literal(self.draw(st.integers(-3, 3)), "integer")
        return literal(Decimal(self.pick(["1.5", "0.001", "100.0", "-2.25", "2.50", "1"])), "decimal")

    def can(self, focus: str, *kinds: str) -> bool:
        return bool(leaf_routes(focus, kinds))

    def path(self, focus: str, kinds: tuple[str, ...], depth: int, prefix: bool = True) -> X:
        """A random route from `focus` to an element of one of `kinds`, decorated with where/first/..."""
        route = self.pick(leaf_routes(focus, kinds))
        x = None
        if prefix and focus == self.resource and self.chance(8):
            x = X(focus, focus, False, lambda f, e: f)  # `Patient.name`: the type name is the resource
        for name, variant, t, many in route:
            if name == "extension" and self.chance(2):
                url = self.pick(URLS)
                x = call(x or this(), "extension", f"'{url}'", "Extension", True,
                         lambda items, f, e, url=url: [i for i in members(items, "extension") if i.get("url") == url])
                if x.text.startswith("$this."):
                    x = X(x.text[len("$this."):], x.type, x.many, x.run)
            elif variant is None:
                x = member_step(x, name, t, many)
            else:
                x = self.choice(x, name, variant)
            x = self.decorate(x, depth)
        return x

    def choice(self, base: X | None, name: str, variant: str) -> X:
        choice = member_step(base, name, variant, False, key=name + cap(variant))
        plain = choice.text
        style = self.draw(st.integers(0, 3))
        if style == 1:
            return X(f"{plain}.as({variant})", variant, choice.many, choice.run)
        if style == 2 and not choice.many:
            return X(f"{plain} as {variant}", variant, False, choice.run, prec=8)
        return X(f"{plain}.ofType({variant})", variant, choice.many, choice.run)

    def decorate(self, x: X, depth: int) -> X:
        roll = self.draw(st.integers(0, 11))
        if roll == 0 and depth < 2:
            return where(x, self.criteria(x.type, depth + 1))
        if roll == 1:
            return call(x, "first", "", x.type, False, lambda items, f, e: items[:1])
        if roll == 2:
            return call(x, "last", "", x.type, False, lambda items, f, e: items[-1:])
        if roll == 3:
            i = self.pick([0, 1, -1])

            def index(focus, env, x=x, i=i):
                items, err = attempt(lambda: x.run(focus, env))
                if err:
                    raise Unsure if (not x.many and i != 0) or isinstance(err, Unsure) else err
                return [items[i]] if 0 <= i < len(items) else []

            return X(f"{wrap(x, 12)}[{i}]", x.type, False, index)
        return x

    def criteria(self, type_code: str, depth: int) -> X:
        if kind(type_code) == "complex":
            return self.boolean(type_code, depth)
        k = kind(type_code)
        if k in ("string", "boolean", "number"):
            op = self.pick(["=", "!=", "~"] if k == "string" else ["=", "!="])
            return equality(op, this(), self.lit(k))
        return call(this(), "exists", "", "boolean", False, lambda items, f, e: [bool(items)])

    # -- typed expressions over a complex focus
    def boolean(self, focus: str, depth: int) -> X:
        roll = self.draw(st.integers(0, 13 if depth < 2 else 7))
        needs = {0: ("boolean",), 2: ("string", "number"), 3: ("string",), 4: ("number",), 5: ("boolean",),
                 6: ("string",), 10: ("complex",), 11: ("string", "number"), 12: ("string", "number")}
        if roll in needs and not all(self.can(focus, k) for k in needs[roll][:1]):
            roll = 1
        if roll == 0:
            return self.path(focus, ("boolean",), depth)
        if roll == 1:
            x = self.path(focus, ("string", "number", "boolean", "date", "complex"), depth)
            name = self.pick(["exists", "empty"])
            return call(x, name, "", "boolean", False,
                        lambda items, f, e, name=name: [bool(items) == (name == "exists")])
        if roll == 2:
            k = self.pick([k for k in ("string", "number") if self.can(focus, k)])
            x = self.path(focus, (k,), depth)
            return call(x, "hasValue", "", "boolean", False, lambda items, f, e: [len(items) == 1])
        if roll == 3:
            x = self.path(focus, ("string",), depth)
            return equality(self.pick(["=", "!=", "~", "!~"]), x, self.lit("string"))
        if roll == 4:
            x = self.path(focus, ("number",), depth)
            op = self.pick(["=", "!=", "<", "<=", ">", ">="])
            return (equality if op in ("=", "!=") else order)(op, x, self.lit("number"))
        if roll == 5:
            x = self.path(focus, ("boolean",), depth)
            return equality(self.pick(["=", "!="]), x, self.lit("boolean"))
        if roll == 6:
            x = self.path(focus, ("string",), depth)
            return membership(self.pick(["in", "contains"]), self.lit("string"), x)
        if roll == 7:
            x = self.path(focus, ("string", "number", "boolean", "date", "complex"), depth)
            op, n = self.pick(["=", "!=", "<", ">="]), literal(self.draw(st.integers(0, 3)), "integer")
            counted = call(x, "count", "", "integer", False, lambda items, f, e: [len(items)])
            return (equality if op in ("=", "!=") else order)(op, counted, n)
        if roll == 8:
            return logic(self.pick(["and", "or", "xor", "implies"]), self.boolean(focus, depth + 1),
                         self.boolean(focus, depth + 1))
        if roll == 9:
            x = self.boolean(focus, depth + 1)

            def negation(items, f, e):
                value = as_bool(items)
                return [] if value is None else [not value]

            return call(x, "not", "", "boolean", False, negation)
        if roll == 10:
            x = self.path(focus, ("complex",), depth)
            return where(x, self.criteria(x.type, depth + 1), exists=True)
        if roll == 11:
            k = self.pick([k for k in ("string", "number") if self.can(focus, k)])
            a, b = self.path(focus, (k,), depth), self.path(focus, (k,), depth)
            return equality(self.pick(["=", "!=", "~", "!~"] if k == "string" else ["=", "!="]), a, b)
        if roll == 12:
            k = self.pick([k for k in ("string", "number") if self.can(focus, k)])
            a, b = self.path(focus, (k,), depth), self.path(focus, (k,), depth)
            u = union(a, b)
            if self.chance(2):
                return call(u, "exists", "", "boolean", False, lambda items, f, e: [bool(items)])
            return membership("in", self.lit(k), u)
        x = self.path(focus, ("string", "number", "boolean"), depth)
        if self.chance(2) or not CHOICES.get(focus):
            return equality(self.pick(["~", "!~", "="]), x, EMPTY_LITERAL)
        choices = CHOICES.get(focus)
        if choices:
            base = self.pick(sorted(choices))
            variant = self.pick([*choices[base], "Quantity", "string"])
            key = base + cap(variant)
            run: Run = lambda f, e, key=key: [bool(members(f, key))]  # noqa: E731
            if self.chance(2):
                return X(f"{base} is {variant}", "boolean", False, run, prec=8)
            return X(f"{base}.is({variant})", "boolean", False, run)
        return call(x, "exists", "", "boolean", False, lambda items, f, e: [bool(items)])

    def string(self, focus: str, depth: int) -> X:
        roll = self.draw(st.integers(0, 5 if depth < 2 else 2))
        if roll <= 1:
            return self.path(focus, ("string",), depth)
        if roll == 2:
            x = self.path(focus, ("string", "date"), depth)
            sep = self.pick([",", "", " | ", "'"])
            text = "" if sep == "" and self.chance(2) else literal(sep, "string").text
            return call(x, "join", text, "string", False, lambda items, f, e, sep=sep: [sep.join(items)])
        if roll == 3:
            return concat(self.string(focus, depth + 1), self.lit("string") if self.chance(2) else
                          self.string(focus, depth + 1))
        if roll == 4:
            return arithmetic("+", self.string(focus, depth + 1), self.lit("string"))
        if not self.can(focus, "complex"):
            return self.path(focus, ("string",), depth)
        x = self.path(focus, ("complex",), depth)
        if x.type == "Reference":
            wanted = self.pick([None, "Organization", "Patient"])
            return call(x, "getReferenceKey", wanted or "", "string", x.many, lambda items, f, e, w=wanted: [
                k for k in (reference_key(i, w) for i in items) if k is not None])
        return self.path(focus, ("string",), depth)

    def number(self, focus: str, depth: int) -> X:
        roll = self.draw(st.integers(0, 6 if depth < 2 else 2))
        if not self.can(focus, "number"):
            roll = 1
        if roll == 0:
            return self.path(focus, ("number",), depth)
        if roll == 1:
            x = self.path(focus, ("string", "number", "boolean", "date", "complex"), depth)
            return call(x, "count", "", "integer", False, lambda items, f, e: [len(items)])
        if roll == 2:
            x = self.path(focus, ("number",), depth)
            if x.type != "decimal":  # boundaries of decimals as written (the engine's raw JSON text)
                return x
            low = self.chance(2)
            return call(x, "lowBoundary" if low else "highBoundary", "", "decimal", x.many,
                        lambda items, f, e, low=low: [decimal_boundary(i, low) for i in items])
        if roll == 3:
            x = self.number(focus, depth + 1)

            def negate(focus, env, x=x):
                v = one(x.run(focus, env))
                return [] if v is None else [-num(v)]

            return X(f"-{wrap(x, 11)}", "integer" if kind(x.type) == "number" and x.type != "decimal"
                     else "decimal", False, negate, prec=11)
        op = self.pick(["+", "-", "*", "/", "div", "mod"])
        left = self.number(focus, depth + 1)
        right = self.lit("number") if self.chance(2) else self.number(focus, depth + 1)
        if op in ("div", "mod") and "decimal" in (left.type, right.type):
            op = "+"
        return arithmetic(op, left, right)

    def date(self, focus: str, depth: int) -> X:
        if not self.can(focus, "date"):
            return self.string(focus, depth)
        x = self.path(focus, ("date",), depth)
        if self.chance(2):
            return x
        low = self.chance(2)
        fn = date_boundary if x.type == "date" else datetime_boundary
        return call(x, "lowBoundary" if low else "highBoundary", "", x.type, x.many,
                    lambda items, f, e, low=low, fn=fn: [fn(i, low) for i in items])

    def column(self, focus: str) -> tuple[X, bool]:
        make = self.pick([self.boolean, self.boolean, self.string, self.number, self.date])
        x = make(focus, 0)
        return x, x.many and self.chance(2)


# ---------------------------------------------------------------------------------------------------- data


@st.composite
def values(draw, type_code: str, depth: int = 0):
    if type_code == "boolean":
        return draw(st.booleans())
    if type_code in ("string", "code"):
        return draw(st.sampled_from(STRINGS))
    if type_code == "uri":
        return draw(st.sampled_from([*URLS, "Organization"]))
    if type_code == "date":
        return draw(st.sampled_from(DATES))
    if type_code == "dateTime":
        return draw(st.sampled_from(DATETIMES))
    if type_code in ("integer", "positiveInt"):
        return draw(st.integers(-3 if type_code == "integer" else 1, 3))
    if type_code == "decimal":
        return Dec(draw(st.sampled_from(DECIMALS)))
    out: dict = {}
    for name, (t, many) in MODEL[type_code].items():
        if name == "id" or (name == "extension" and depth >= 2) or draw(st.integers(0, 2)) == 0:
            continue
        if type_code == "Extension" and name == "url":
            out[name] = draw(st.sampled_from(URLS))
        elif type_code == "Reference" and name == "reference":
            out[name] = draw(st.sampled_from(REFERENCES))
        elif draw(st.integers(0, 20)) == 0:
            out[name] = None  # JSON null: no item
        elif many:
            out[name] = draw(st.lists(st.one_of(values(t, depth + 1), st.none()) if kind(t) != "complex"
                                      and draw(st.integers(0, 5)) == 0 else values(t, depth + 1), max_size=3))
        else:
            out[name] = draw(values(t, depth + 1))
    for base, variants in CHOICES.get(type_code, {}).items():
        if draw(st.booleans()):
            variant = draw(st.sampled_from(variants))
            out[base + cap(variant)] = draw(values(variant, depth + 1))
    return out


def to_json(value) -> str:
    """JSON text with decimals written exactly as generated."""
    if isinstance(value, Dec):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(to_json, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def frame(spark, resources: list[dict]):
    """Bronze-shaped (resource_type, raw_json) rows, built in the JVM from one literal."""
    rows = [{"resource_type": r["resourceType"], "raw_json": to_json(r)} for r in resources]
    schema = "array<struct<resource_type:string,raw_json:string>>"
    return spark.range(1).select(F.inline(F.from_json(F.lit(json.dumps(rows)), schema)))


# ------------------------------------------------------------------------------------------ the scenarios


@dataclass
class Column:
    name: str
    x: X
    collection: bool

    def spec(self) -> dict:
        return {"name": self.name, "path": self.x.text, "collection": self.collection}

    def expected(self, focus: list, env: Env):
        items = self.x.run(focus, env)
        if self.collection:
            return [spark_value(i, self.x.type) for i in items]
        return spark_value(one(items), self.x.type)


@dataclass
class Scenario:
    resource: str
    resources: list[dict]
    columns: list[Column]
    each: tuple[str, X] | None  # ("forEach" | "forEachOrNull", iterated collection)
    each_columns: list[Column]
    where: X | None

    def view(self, columns: list[Column], each_columns: list[Column]) -> dict:
        select: list[dict] = [{"column": [{"name": "id", "path": "getResourceKey()"}] + [c.spec() for c in columns]}]
        if self.each:
            select.append({self.each[0]: self.each[1].text, "column": [{"name": "ix", "path": "%rowIndex"}] + [
                c.spec() for c in each_columns]})
        view = {"resource": self.resource, "select": select}
        if self.where is not None:
            view["where"] = [{"path": self.where.text}]
        return view

    def rows(self) -> list[tuple[dict, Env, list]]:
        """Every output row: (resource, environment, focus of the forEach columns)."""
        out = []
        for r in self.resources:
            if r["resourceType"] != self.resource:
                continue
            if self.where is not None and self.where.run([r], Env(r, 0)) != [True]:
                continue
            if self.each is None:
                out.append((r, Env(r, 0), []))
                continue
            items = self.each[1].run([r], Env(r, 0))
            if not items and self.each[0] == "forEachOrNull":
                out.append((r, Env(r, 0), []))
            out += [(r, Env(r, i), [item]) for i, item in enumerate(items)]
        return out


def settles(x: X, resources: list[dict]) -> bool:
    """No error (certain or not) for any resource."""
    return all(attempt(lambda r=r: x.run([r], Env(r, 0)))[1] is None for r in resources)


@st.composite
def scenarios(draw) -> Scenario:
    resource = draw(st.sampled_from(["Patient", "Observation"]))
    other = "Observation" if resource == "Patient" else "Patient"
    count = draw(st.integers(N_RESOURCES // 2, N_RESOURCES))
    resources = []
    for i in range(count):
        rtype = other if i % 10 == 9 else resource  # a few of another type: the view must skip them
        resources.append({"resourceType": rtype, "id": f"r{i}", **draw(values(rtype))})
    gen = Gen(draw, resource)
    columns = []
    for i in range(N_COLUMNS):
        x, collection = gen.column(resource)
        columns.append(Column(f"c{i}", x, collection))
    own = [r for r in resources if r["resourceType"] == resource]
    where = None
    if draw(st.integers(0, 3)) == 0:
        where = gen.boolean(resource, 1)
        if not settles(where, own):
            where = None
    each, each_columns = None, []
    if draw(st.booleans()):
        x = gen.path(resource, ("complex",), 1)
        if x.many and settles(x, own):
            each = (draw(st.sampled_from(["forEach", "forEachOrNull"])), x)
            for i in range(N_EACH_COLUMNS):
                if draw(st.integers(0, 5)) == 0:
                    path = gen.path(resource, ("string",), 2, prefix=False)
                    col = X(f"%resource.{path.text}", path.type, path.many,
                            lambda f, e, p=path: p.run([e.resource], e))
                    each_columns.append(Column(f"e{i}", col, False))
                else:
                    y, collection = gen.column(x.type)
                    each_columns.append(Column(f"e{i}", y, collection))
    return Scenario(resource, resources, columns, each, each_columns, where)


def outcome(column: Column, rows, each: bool) -> str | dict:
    """'failed', 'unsure' or the expected value per row key."""
    out: dict = {}
    failed = False
    for r, env, focus in rows:
        try:
            out[(r["id"], env.row_index)] = column.expected(focus if each else [r], env)
        except Unsure:
            return "unsure"
        except Failed:
            failed = True  # keep looking: an Unsure elsewhere wins
    return "failed" if failed else out


# -------------------------------------------------------------------------------------------- properties


@budget(8)
@given(scenarios())
def test_view_columns_equal_the_fhirpath_oracle(fast_spark, scenario):
    rows = scenario.rows()
    checked, checked_each, failing = [], [], []
    expected: dict = {(r["id"], env.row_index): {"id": r["id"], "ix": env.row_index} for r, env, _ in rows}
    for each, columns, keep in ((False, scenario.columns, checked), (True, scenario.each_columns, checked_each)):
        for column in columns:
            result = outcome(column, rows, each)
            if result == "failed":
                failing.append((each, column))
            elif result != "unsure":
                keep.append(column)
                for key, value in result.items():
                    expected[key][column.name] = value
    view = scenario.view(checked, checked_each)
    data = frame(fast_spark, scenario.resources)
    got = {}
    for row in compile_view(view).apply(data).collect():
        d = row.asDict()
        got[(d["id"], d.get("ix", 0))] = d
    assert sorted(got) == sorted(expected), (
        f"rows: engine only {sorted(set(got) - set(expected))}, oracle only {sorted(set(expected) - set(got))}; "
        f"where {scenario.where and scenario.where.text!r}, {scenario.each and scenario.each[0]} "
        f"{scenario.each and scenario.each[1].text!r}")
    for key, want in expected.items():
        for column in checked + checked_each:
            assert got[key][column.name] == want[column.name], (
                f"{column.name} = {column.x.text!r} (collection={column.collection}) on {key}: "
                f"engine {got[key][column.name]!r}, oracle {want[column.name]!r}; resource "
                f"{to_json(next(r for r in scenario.resources if r['id'] == key[0]))}")
    if failing:
        each, column = failing[0]
        view = scenario.view([] if each else [column], [column] if each else [])
        with pytest.raises(Exception, match="returned more than one item"):
            compile_view(view).apply(data).collect()
