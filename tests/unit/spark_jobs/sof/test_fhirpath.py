"""The FHIRPath tokenizer and recursive-descent parser (pure Python, no Spark)."""

from __future__ import annotations

import pytest

from spark_jobs.sof.errors import FhirPathSyntaxError
from spark_jobs.sof.fhirpath import (
    Binary,
    Call,
    Constant,
    EmptyLiteral,
    Identifier,
    Index,
    Literal,
    Member,
    TypeOp,
    Unary,
    Variable,
    parse,
    tokenize,
    type_name_of,
)


def test_path_with_function_and_member():
    assert parse("name.where(use = 'official').family") == Member(
        Call(Identifier("name"), "where", (Binary("=", Identifier("use"), Literal("official", "string")),)),
        "family",
    )


def test_function_without_target_applies_to_focus():
    assert parse("exists()") == Call(None, "exists", ())
    assert parse("where(value > 1).exists()") == Call(
        Call(None, "where", (Binary(">", Identifier("value"), Literal(1, "integer")),)), "exists", ())


@pytest.mark.parametrize(("text", "expected"), [
    # and binds tighter than or; or/xor tighter than implies
    ("a or b and c", Binary("or", Identifier("a"), Binary("and", Identifier("b"), Identifier("c")))),
    ("a implies b or c", Binary("implies", Identifier("a"), Binary("or", Identifier("b"), Identifier("c")))),
    # comparison tighter than equality tighter than and
    ("a = b < c", Binary("=", Identifier("a"), Binary("<", Identifier("b"), Identifier("c")))),
    ("a = 1 and b", Binary("and", Binary("=", Identifier("a"), Literal(1, "integer")), Identifier("b"))),
    # multiplicative over additive, left associative
    ("1 + 2 * 3 - 4", Binary("-", Binary("+", Literal(1, "integer"),
                                          Binary("*", Literal(2, "integer"), Literal(3, "integer"))),
                            Literal(4, "integer"))),
    ("a div b mod c", Binary("mod", Binary("div", Identifier("a"), Identifier("b")), Identifier("c"))),
    ("-x.y", Unary("-", Member(Identifier("x"), "y"))),
    ("(a or b) and c", Binary("and", Binary("or", Identifier("a"), Identifier("b")), Identifier("c"))),
    ("a | b = c", Binary("=", Binary("|", Identifier("a"), Identifier("b")), Identifier("c"))),
    ("x in y and z", Binary("and", Binary("in", Identifier("x"), Identifier("y")), Identifier("z"))),
    ("a & b + c", Binary("+", Binary("&", Identifier("a"), Identifier("b")), Identifier("c"))),
])
def test_operator_precedence(text, expected):
    assert parse(text) == expected


def test_literals():
    assert parse("'it\\'s \\u00e9'") == Literal("it's é", "string")
    assert parse("42") == Literal(42, "integer")
    assert parse("1.50") == Literal("1.50", "decimal")  # decimals keep their written digits
    assert parse("true") == Literal(True, "boolean")
    assert parse("@2020-01-02") == Literal("2020-01-02", "date")
    assert parse("@2020-01-02T10:00:00Z") == Literal("2020-01-02T10:00:00Z", "dateTime")
    assert parse("@T12:30") == Literal("12:30", "time")
    assert parse("{}") == EmptyLiteral()


def test_constants_variables_indexers_and_type_operators():
    assert parse("name[%idx].family") == Member(Index(Identifier("name"), Constant("idx")), "family")
    assert parse("%`weird name`") == Constant("weird name")
    assert parse("$this") == Variable("$this")
    assert parse("value is Quantity") == TypeOp("is", Identifier("value"), "Quantity")
    assert parse("value as FHIR.string") == TypeOp("as", Identifier("value"), "FHIR.string")
    assert parse("`div`.x") == Member(Identifier("div"), "x")  # backticks escape keywords


def test_whitespace_and_comments_are_ignored():
    assert parse("name.given.join(', ' )") == parse("name . given . join(', ')")
    assert parse("a // trailing\n and /* inline */ b") == Binary("and", Identifier("a"), Identifier("b"))


def test_type_name_of_arguments():
    assert type_name_of(parse("Quantity")) == "Quantity"
    assert type_name_of(parse("FHIR.string")) == "FHIR.string"
    assert type_name_of(parse("'x'")) is None


@pytest.mark.parametrize("text", [
    "@@", "name.", "(a", "a b", "'unterminated", "name[0", "where(,)", "", "1 +", "a.#b", "'bad \\q escape'",
])
def test_syntax_errors(text):
    with pytest.raises(FhirPathSyntaxError):
        parse(text)


def test_syntax_error_says_where():
    with pytest.raises(FhirPathSyntaxError, match=r"expected an identifier but found end of expression at offset 5"):
        parse("name.")


def test_non_string_expression_is_rejected():
    with pytest.raises(FhirPathSyntaxError, match="must be a string"):
        parse(1)  # type: ignore[arg-type]


def test_tokens_carry_positions():
    kinds = [(t.kind, t.text, t.pos) for t in tokenize("a.b >= 1")]
    assert kinds == [("id", "a", 0), ("op", ".", 1), ("id", "b", 2), ("op", ">=", 4), ("num", "1", 7),
                     ("eof", "", 8)]
