"""FHIRPath AST -> Spark Column expressions, with FHIRPath collection semantics.

Every compiled value is an `Expr`: a Spark Column plus what is statically known about it: its FHIR type
(from the FHIR model) and whether it can hold more than one item. A singleton is a nullable scalar or
struct column (null = empty collection); a collection is an array column (null or [] = empty).
Iteration uses higher-order functions (`transform`, `filter`, `exists`), never Python UDFs, so a view
runs as one projection over the parsed resource.

Modules: `exprs` (Expr, Env, collection helpers), `navigation` (members, choice elements, ofType),
`paths` (the AST walk), `functions` (the function registry), `operators`, `boundaries`.
"""

from spark_jobs.sof.compiler.exprs import (
    CHOICE,
    EMPTY,
    Env,
    Expr,
    as_boolean,
    choice_base,
    empty,
    kind,
    number,
    singleton,
    size,
    to_array,
)
from spark_jobs.sof.compiler.functions import FUNCTIONS, call, function
from spark_jobs.sof.compiler.navigation import exists, member, member_elem, of_type
from spark_jobs.sof.compiler.operators import binary
from spark_jobs.sof.compiler.paths import compile_ast, compile_path

__all__ = [
    "CHOICE",
    "EMPTY",
    "FUNCTIONS",
    "Env",
    "Expr",
    "as_boolean",
    "binary",
    "call",
    "choice_base",
    "compile_ast",
    "compile_path",
    "empty",
    "exists",
    "function",
    "kind",
    "member",
    "member_elem",
    "number",
    "of_type",
    "singleton",
    "size",
    "to_array",
]
