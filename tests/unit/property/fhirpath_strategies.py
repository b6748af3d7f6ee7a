"""The generator of the FHIRPath property test (test_fhirpath.py): typed random FHIRPath expressions over a
hand-written slice of the FHIR model (fhirpath_oracle.py), random small resources, and whole scenarios.

Each example draws ~30 small FHIR-like Patients or Observations (arrays missing, empty, with one or several
items or JSON nulls; choice elements; extensions nested in extensions; decimals written as exact JSON
text such as `1.10`, `1e2` or `12345678901234567.25`) and one ViewDefinition whose columns are ~30
random FHIRPath expressions (paths, `where`, `exists`/`empty`/`hasValue`, `first`/`last`/indexers,
`count`, `join`, `ofType`/`as`/`is`, `extension(url)`, `getResourceKey`/`getReferenceKey`,
`lowBoundary`/`highBoundary`, `and`/`or`/`xor`/`implies`/`not()`, `=`/`!=`/`~`/`!~`, ordering, arithmetic,
`&`, `in`/`contains`, `|`, `{}`, `$this`, `%rowIndex`, `%resource`), plus maybe a `forEach` or
`forEachOrNull` with its own columns and a view-level `where`. The view runs in ONE Spark job; every row and
column must equal what the evaluator (fhirpath_oracle.py) computes.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import strategies as st
from pyspark.sql import functions as F

from tests.unit.property.fhirpath_oracle import (
    CHOICES,
    EMPTY_LITERAL,
    MODEL,
    Column,
    Dec,
    Run,
    Scenario,
    Unsure,
    X,
    arithmetic,
    as_bool,
    attempt,
    call,
    cap,
    concat,
    date_boundary,
    datetime_boundary,
    decimal_boundary,
    equality,
    kind,
    literal,
    logic,
    member_step,
    members,
    membership,
    num,
    one,
    order,
    reference_key,
    settles,
    this,
    union,
    where,
    wrap,
)

N_RESOURCES = 30
N_COLUMNS = 28
N_EACH_COLUMNS = 8

STRINGS = ["a", "A", "b", "a b", "A  B", " a", "a\t", "O'B", "x\\y", "é", "É"]
URLS = ["http://e/a", "http://e/b"]
DATES = ["1970", "1970-06", "1970-02-15", "2000-02", "2024-12-31", "1999-12"]
DATETIMES = ["2020-01-01", "2020-01-01T10:20:30Z", "2020-01-01T10:20:30.5+02:00", "2021-03",
             "2021-03-04T05:06:07-05:00", "2020", "2020-02-29T23:59:59"]
DECIMALS = ["0", "1", "1.0", "1.10", "1.5", "-2.25", "0.001", "100", "2.50", "1e2", "1.5E-3", "-0.5",
            "123456789.125", "0.1234567891", "3.14159265"]
REFERENCES = ["Organization/o1", "http://x/fhir/Organization/o2", "Patient/p1/_history/2", "urn:uuid:abc-1",
              "Organization?identifier=x|1", "#c1", "Practitioner/pr.1"]


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

    def path(self, focus: str, kinds: tuple[str, ...], depth: int, start: X | None = None) -> X:
        """A random route from `focus` to an element of one of `kinds`, decorated with where/first/...; from
        `start` (e.g. `%resource`) when given, so that a step with lower precedence than `.` (`value as
        Coding`) is parenthesised with its start: `(%resource.value as Coding).code`."""
        route = self.pick(leaf_routes(focus, kinds))
        x = start
        if start is None and focus == self.resource and self.chance(8):
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

def resource_path(gen: Gen, resource: str) -> X:
    """A string path from `%resource` (in a forEach column: the row's resource, not the iterated item)."""
    root = X("%resource", resource, False, lambda f, e: [e.resource])
    return gen.path(resource, ("string",), 2, start=root)


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
                    each_columns.append(Column(f"e{i}", resource_path(gen, resource), False))
                else:
                    y, collection = gen.column(x.type)
                    each_columns.append(Column(f"e{i}", y, collection))
    return Scenario(resource, resources, columns, each, each_columns, where)
