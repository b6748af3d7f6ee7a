"""The plain-Python FHIRPath evaluator of the FHIRPath property test (test_fhirpath.py), and the expression
builders that pair each generated FHIRPath text with its evaluation here. It imports no project code.

The evaluator follows FHIRPath (N1) with the singleton rule: where one item is needed (a non-collection
column, an operand of `and` or `<`, a `where` criteria...) several items are an error. Columns whose value
is an error for some row leave the main view; one of them must then make a second, one-column view fail
with the engine's "returned more than one item". Where the error depends on evaluation order (an operand
the engine may skip: `false and <error>`, `{} + <error>`, `{} + <several items>`, `<error> in {}`,
`<error> / 0`), the column is not checked at all.

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
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

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


def singletons(a: list, b: list) -> tuple:
    """The single items (None for empty) of an operator's two operands that must be singletons (arithmetic,
    ordering). Several items are an error, but beside an empty operand it depends on evaluation order: the
    engine skips the second operand when the first is null, so `{} - (1 | 2)` is empty there, an error in
    FHIRPath implementations that check both operands first; Unsure, as an error beside an empty operand
    is in `both`."""
    if (len(a) > 1 and not b) or (len(b) > 1 and not a):
        raise Unsure
    return one(a), one(b)


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
        x, y = singletons(a, b)
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
        x, y = singletons(a, b)
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
