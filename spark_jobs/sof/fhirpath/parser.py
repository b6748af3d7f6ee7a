"""A recursive-descent FHIRPath parser producing the AST of `nodes.py`."""

from __future__ import annotations

from spark_jobs.sof.errors import FhirPathSyntaxError
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
from spark_jobs.sof.fhirpath.tokens import Token, tokenize

# Binary operators by precedence level, lowest first (FHIRPath N1 §"Operator precedence").
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("implies",),
    ("or", "xor"),
    ("and",),
    ("in", "contains"),
    ("=", "~", "!=", "!~"),
    ("<", ">", "<=", ">="),
    ("|",),
)
_ADDITIVE = ("+", "-", "&")
_MULTIPLICATIVE = ("*", "/", "div", "mod")
_KEYWORD_OPS = {"implies", "or", "xor", "and", "in", "contains", "div", "mod", "is", "as"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _is_op(self, *ops: str) -> bool:
        t = self.tok
        return (t.kind == "op" and t.text in ops) or (t.kind == "id" and t.text in ops and t.text in _KEYWORD_OPS)

    def _next(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def _expect(self, text: str) -> None:
        if not (self.tok.kind == "op" and self.tok.text == text):
            self._fail(f"expected {text!r}")
        self.i += 1

    def _fail(self, what: str) -> None:
        t = self.tok
        found = "end of expression" if t.kind == "eof" else repr(t.text)
        raise FhirPathSyntaxError(f"{what} but found {found} at offset {t.pos} in {self.text!r}")

    # -- grammar
    def parse(self) -> Node:
        if self.tok.kind == "eof":
            self._fail("expected an expression")
        node = self._binary(0)
        if self.tok.kind != "eof":
            self._fail("expected end of expression")
        return node

    def _binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self._type_expr()
        left = self._binary(level + 1)
        while self._is_op(*_LEVELS[level]):
            op = self._next().text
            left = Binary(op, left, self._binary(level + 1))
        return left

    def _type_expr(self) -> Node:
        left = self._additive()
        while self._is_op("is", "as"):
            op = self._next().text
            left = TypeOp(op, left, self._type_specifier())
        return left

    def _type_specifier(self) -> str:
        parts = [self._identifier()]
        while self._is_op("."):
            self._next()
            parts.append(self._identifier())
        return ".".join(parts)

    def _identifier(self) -> str:
        if self.tok.kind != "id":
            self._fail("expected an identifier")
        return self._next().text

    def _additive(self) -> Node:
        left = self._multiplicative()
        while self._is_op(*_ADDITIVE):
            op = self._next().text
            left = Binary(op, left, self._multiplicative())
        return left

    def _multiplicative(self) -> Node:
        left = self._unary()
        while self._is_op(*_MULTIPLICATIVE):
            op = self._next().text
            left = Binary(op, left, self._unary())
        return left

    def _unary(self) -> Node:
        if self._is_op("+", "-"):
            op = self._next().text
            return Unary(op, self._unary())
        return self._postfix()

    def _postfix(self) -> Node:
        node = self._term()
        while True:
            if self._is_op("."):
                self._next()
                name = self._identifier()
                node = Call(node, name, self._args()) if self._is_op("(") else Member(node, name)
            elif self._is_op("["):
                self._next()
                index = self._binary(0)
                self._expect("]")
                node = Index(node, index)
            else:
                return node

    def _args(self) -> tuple[Node, ...]:
        self._expect("(")
        args: list[Node] = []
        if not self._is_op(")"):
            args.append(self._binary(0))
            while self._is_op(","):
                self._next()
                args.append(self._binary(0))
        self._expect(")")
        return tuple(args)

    def _term(self) -> Node:
        t = self.tok
        if t.kind == "str":
            self._next()
            return Literal(t.text, "string")
        if t.kind == "num":
            self._next()
            return Literal(t.text, "decimal") if "." in t.text else Literal(int(t.text), "integer")
        if t.kind == "date":
            self._next()
            kind = "time" if t.text.startswith("T") else ("dateTime" if "T" in t.text else "date")
            return Literal(t.text.removeprefix("T"), kind)
        if t.kind == "const":
            self._next()
            return Constant(t.text)
        if t.kind == "var":
            self._next()
            return Variable(t.text)
        if t.kind == "op" and t.text == "(":
            self._next()
            inner = self._binary(0)
            self._expect(")")
            return inner
        if t.kind == "op" and t.text == "{":
            self._next()
            self._expect("}")
            return EmptyLiteral()
        if t.kind == "id":
            self._next()
            if t.text in ("true", "false"):
                return Literal(t.text == "true", "boolean")
            if self._is_op("("):
                return Call(None, t.text, self._args())
            return Identifier(t.text)
        self._fail("expected a term")
        raise AssertionError  # unreachable: _fail raises


def parse(text: str) -> Node:
    """Parse a FHIRPath expression into an AST; raises FhirPathSyntaxError on invalid input."""
    if not isinstance(text, str):
        raise FhirPathSyntaxError(f"a FHIRPath expression must be a string, got {type(text).__name__}")
    return _Parser(text).parse()


def type_name_of(node: Node) -> str | None:
    """The dotted type name written as a function argument (`ofType(FHIR.string)`), or None."""
    if isinstance(node, Identifier):
        return node.name
    if isinstance(node, Member):
        prefix = type_name_of(node.target)
        return f"{prefix}.{node.name}" if prefix else None
    return None
