"""The FHIRPath AST: immutable nodes, compared by value (the parser tests rely on it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Literal:
    value: object  # str | int | Decimal-as-str | bool
    type: str  # 'string' | 'integer' | 'decimal' | 'boolean' | 'date' | 'dateTime' | 'time'


@dataclass(frozen=True)
class EmptyLiteral:
    """`{}`: the empty collection."""


@dataclass(frozen=True)
class Identifier:
    """A bare name at the start of a path (`name`), i.e. a member of the current focus."""

    name: str


@dataclass(frozen=True)
class Member:
    target: Node
    name: str


@dataclass(frozen=True)
class Call:
    target: Node | None  # None: a function applied to the current focus (`exists()`, `where(...)`)
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node


@dataclass(frozen=True)
class Variable:
    """`$this`, `$index`, `$total`."""

    name: str


@dataclass(frozen=True)
class Constant:
    """`%name`: a view constant or an environment variable such as `%rowIndex` / `%resource`."""

    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class TypeOp:
    """`expr is T` / `expr as T`."""

    op: str
    operand: Node
    type_name: str


Node = Literal | EmptyLiteral | Identifier | Member | Call | Index | Variable | Constant | Unary | Binary | TypeOp
