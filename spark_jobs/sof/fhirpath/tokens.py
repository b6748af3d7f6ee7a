"""The FHIRPath tokenizer: text -> tokens with their offsets, string escapes resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spark_jobs.sof.errors import FhirPathSyntaxError


@dataclass(frozen=True)
class Token:
    kind: str  # 'id' | 'str' | 'num' | 'date' | 'const' | 'var' | 'op' | 'eof'
    text: str
    pos: int


_DATE = r"@\d{4}(?:-\d{2}(?:-\d{2})?)?(?:T(?:\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
_TIME = r"@T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<time>""" + _TIME + r""")
  | (?P<date>""" + _DATE + r""")
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*')
  | (?P<bq>`(?:[^`\\]|\\.)*`)
  | (?P<const>%(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'))
  | (?P<var>\$[A-Za-z_]+)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|!~|[-+*/&|=~<>.,()\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(body: str, pos: int) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise FhirPathSyntaxError(f"invalid escape '\\{nxt}' at offset {pos + i}")
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise FhirPathSyntaxError(f"unexpected character {text[pos]!r} at offset {pos} in {text!r}")
        kind = m.lastgroup
        raw = m.group()
        if kind == "str":
            tokens.append(Token("str", _unescape(raw[1:-1], pos), pos))
        elif kind == "bq":
            tokens.append(Token("id", _unescape(raw[1:-1], pos), pos))
        elif kind == "const":
            name = raw[1:]
            if name[:1] in "`'":
                name = _unescape(name[1:-1], pos)
            tokens.append(Token("const", name, pos))
        elif kind in ("date", "time"):
            tokens.append(Token("date", raw[1:], pos))
        elif kind != "ws":
            tokens.append(Token(kind, raw, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens

