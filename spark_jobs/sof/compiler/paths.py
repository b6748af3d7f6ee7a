"""The FHIRPath AST walk: paths, literals, constants, variables, indexers and unary/type operators;
function calls and binary operators are handed to `functions` and `operators`."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.sof import fhirpath as fp
from spark_jobs.sof.compiler.exprs import CHOICE, EMPTY, Env, Expr, boolean, empty, kind, number, singleton
from spark_jobs.sof.compiler.functions import call
from spark_jobs.sof.compiler.navigation import exists, member, of_type
from spark_jobs.sof.compiler.operators import binary
from spark_jobs.sof.errors import UnsupportedViewError, ViewDefinitionError
from spark_jobs.sof.schema import DECIMAL_TYPE


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
            return call(name, subject, args, focus, env, compile_ast)
        case fp.Unary(op=op, operand=operand):
            return _unary(op, compile_ast(operand, focus, env), env)
        case fp.TypeOp(op=op, operand=operand, type_name=type_name):
            value = of_type(compile_ast(operand, focus, env), type_name, env.loc, env.tree.fhir_version)
            return boolean(exists(value)) if op == "is" else value
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


def _unary(op: str, value: Expr, env: Env) -> Expr:
    if kind(value.type) not in ("number", EMPTY):
        raise ViewDefinitionError(f"unary '{op}' needs a number, got {value.type}", env.loc)
    col = number(singleton(value, f"operand of unary '{op}'"), value)
    return replace(value, col=-col if op == "-" else col, many=False, raw_decimal=False)
