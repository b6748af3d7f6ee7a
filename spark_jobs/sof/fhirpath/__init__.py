"""A small FHIRPath tokenizer and recursive-descent parser producing an immutable AST.

Covers the grammar of FHIRPath N1 that SQL-on-FHIR views use: paths, function calls, indexers, `$this`,
`%constants`, literals (string, number, boolean, date/time, `{}`) and all operators with the spec's
precedence. Evaluation is not done here: the `compiler` package turns the AST into Spark Column
expressions.

Modules: `nodes` (the AST), `tokens` (the tokenizer), `parser` (`parse`, `type_name_of`).
"""

from spark_jobs.sof.fhirpath.nodes import (
    Binary,
    Call,
    Constant,
    EmptyLiteral,
    Identifier,
    Index,
    Literal,
    Member,
    Node,
    TypeOp,
    Unary,
    Variable,
)
from spark_jobs.sof.fhirpath.parser import parse, type_name_of
from spark_jobs.sof.fhirpath.tokens import Token, tokenize

__all__ = [
    "Binary",
    "Call",
    "Constant",
    "EmptyLiteral",
    "Identifier",
    "Index",
    "Literal",
    "Member",
    "Node",
    "Token",
    "TypeOp",
    "Unary",
    "Variable",
    "parse",
    "tokenize",
    "type_name_of",
]
