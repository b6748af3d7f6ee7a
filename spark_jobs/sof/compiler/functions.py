"""FHIRPath functions. `FUNCTIONS`, filled by the `@function` decorator, is the one place a function is
declared: `call` dispatches through it, so the supported names are whatever is registered here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pyspark.sql import Column
from pyspark.sql import functions as F

from spark_jobs.sof import fhirpath as fp
from spark_jobs.sof import model
from spark_jobs.sof.compiler.boundaries import boundary
from spark_jobs.sof.compiler.exprs import (
    CHOICE,
    EMPTY,
    Env,
    Expr,
    as_boolean,
    boolean,
    choice_base,
    kind,
    map_items,
    singleton,
    size,
    to_array,
)
from spark_jobs.sof.compiler.navigation import exists, member, of_type
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError

Compile = Callable[[fp.Node, Expr, Env], Expr]

# A literal reference key: `[base/]Type/id[/_history/vid]`, or `urn:uuid:<id>` (bundles, Synthea).
_REFERENCE_RE = r"^(?:[^?#]*/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
_URN_RE = r"^urn:uuid:([A-Za-z0-9\-.]{1,64})$"


@dataclass(frozen=True)
class Invocation:
    """One call of a function: its name and its arguments, still uncompiled."""

    name: str
    args: tuple[fp.Node, ...]
    focus: Expr  # what the arguments are evaluated against (the caller's focus, not the subject)
    env: Env
    compile: Compile  # the path compiler; passed in because it imports this module

    def string_arg(self, i: int) -> Column:
        value = self.compile(self.args[i], self.focus, self.env)
        if kind(value.type) != "string":
            raise ViewDefinitionError(f"{self.name}() needs a string argument", self.env.loc)
        return singleton(value, f"argument of {self.name}()")


Handler = Callable[[Expr, Invocation], Expr]


@dataclass(frozen=True)
class FunctionSpec:
    handler: Handler
    min_args: int
    max_args: int
    on_choice: bool  # also valid on a bare choice element (`value[x]`) before ofType()


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(*names: str, min_args: int = 0, max_args: int = 0,
             on_choice: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler(subject, invocation)` as the FHIRPath function(s) `names`."""

    def register(handler: Handler) -> Handler:
        for name in names:
            assert name not in FUNCTIONS, f"FHIRPath function {name}() registered twice"
            FUNCTIONS[name] = FunctionSpec(handler, min_args, max_args, on_choice)
        return handler

    return register


def call(name: str, e: Expr, args: tuple[fp.Node, ...], focus: Expr, env: Env, compile: Compile) -> Expr:
    """`e.name(args)`: validated against the registry, then compiled by the registered handler."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise UnsupportedViewError(f"FHIRPath function '{name}()'", env.loc)
    if e.type == CHOICE and not spec.on_choice:
        raise UnsupportedViewError(f"{name}() on choice element '{choice_base(e)}[x]' without ofType()", env.loc)
    if not spec.min_args <= len(args) <= spec.max_args:
        expected = str(spec.min_args) if spec.min_args == spec.max_args else f"{spec.min_args}..{spec.max_args}"
        raise ViewDefinitionError(f"{name}() takes {expected} argument(s), got {len(args)}", env.loc)
    return spec.handler(e, Invocation(name, args, focus, env, compile))


def _filter(e: Expr, criteria: fp.Node, call: Invocation) -> Expr:
    if e.type == EMPTY:
        return e
    env = call.env

    def test(x: Column) -> Column:
        item = e.item(x)
        return F.coalesce(as_boolean(call.compile(criteria, item, env.at(item)), "where() criteria", env),
                          F.lit(False))

    if e.many:
        return replace(e, col=F.filter(e.col, test))
    return replace(e, col=F.when(test(e.col), e.col))


@function("where", min_args=1, max_args=1)
def _where(e: Expr, call: Invocation) -> Expr:
    return _filter(e, call.args[0], call)


@function("exists", "empty", max_args=1, on_choice=True)
def _exists(e: Expr, call: Invocation) -> Expr:
    found = exists(_filter(e, call.args[0], call) if call.args else e)
    return boolean(found if call.name == "exists" else ~found)


@function("hasValue", on_choice=True)
def _has_value(e: Expr, call: Invocation) -> Expr:
    # FHIRPath: true for a single value; several values (`name.given` of a two-given name) are false.
    return boolean(exists(e) if e.type == CHOICE else size(e) == 1)


@function("first", "last")
def _first_or_last(e: Expr, call: Invocation) -> Expr:
    if not e.many:
        return e
    return replace(e, col=F.try_element_at(e.col, F.lit(1 if call.name == "first" else -1)), many=False)


@function("count")
def _count(e: Expr, call: Invocation) -> Expr:
    return Expr(size(e), False, "integer")


@function("not")
def _not(e: Expr, call: Invocation) -> Expr:
    return boolean(~as_boolean(e, "not()", call.env))


@function("join", max_args=1)
def _join(e: Expr, call: Invocation) -> Expr:
    if kind(e.type) not in ("string", EMPTY):
        raise ViewDefinitionError(f"join() needs strings, got {e.type}", call.env.loc)
    sep = call.string_arg(0) if call.args else F.lit("")
    joined = F.lit("") if e.type == EMPTY else F.call_function("array_join", to_array(e), sep)
    return Expr(F.coalesce(joined, F.lit("")), False, "string")


@function("ofType", "as", "is", min_args=1, max_args=1, on_choice=True)
def _of_type(e: Expr, call: Invocation) -> Expr:
    type_name = fp.type_name_of(call.args[0])
    if type_name is None:
        raise ViewDefinitionError(f"{call.name}() needs a type name", call.env.loc)
    value = of_type(e, type_name, call.env.loc, call.env.tree.fhir_version)
    return boolean(exists(value)) if call.name == "is" else value


@function("extension", min_args=1, max_args=1)
def _extension(e: Expr, call: Invocation) -> Expr:
    url = call.string_arg(0)
    extensions = member(e, "extension", call.env)
    if extensions.type == EMPTY:
        return extensions
    url_of = model.element("Extension", "url", call.env.tree.fhir_version)
    extensions.node.register(url_of)  # type: ignore[union-attr]
    return replace(extensions, col=F.filter(extensions.col, lambda x: x.getField("url") == url))


@function("lowBoundary", "highBoundary")
def _boundary(e: Expr, call: Invocation) -> Expr:
    return boundary(e, call.name == "lowBoundary", call.env)


@function("getResourceKey")
def _resource_key(e: Expr, call: Invocation) -> Expr:
    if not e.resource:
        raise ViewDefinitionError("getResourceKey() must be called on a resource", call.env.loc)
    return member(e, "id", call.env)


@function("getReferenceKey", max_args=1)
def _reference_key(e: Expr, call: Invocation) -> Expr:
    env = call.env
    type_name = fp.type_name_of(call.args[0]) if call.args else None
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

    return Expr(map_items(e, key), e.many, "string")
