"""Sniffing a raw object's format and encoding from its first bytes, and splitting lines as Spark does."""

from __future__ import annotations

import codecs

import pytest

from spark_jobs.bronze.sources import bom_encoding, split_lines, text_format

OBJ = b'{"resourceType":"Patient","id":"a"}'


@pytest.mark.parametrize(("text", "cut", "fmt"), [
    (OBJ + b"\n" + OBJ + b"\n", False, "ndjson"),
    # two objects on the first line: NDJSON with a bad line, not a document (its later lines would be lost)
    (OBJ + OBJ + b"\n" + OBJ + b"\n", False, "ndjson"),
    (OBJ + b" trailing\n", False, "ndjson"),
    (b'{\n  "resourceType": "Bundle",\n', True, "document"),
    (b'[\n  {"resourceType": "Patient"},\n', False, "document"),
    (b"[" + OBJ + b"]", False, "document"),
    (b"[" + OBJ + b"]\n" + OBJ + b"\n", False, "ndjson"),
    # a first line longer than the sniffed bytes: NDJSON unless it is an array
    (b'{"resourceType":"Bundle","entry":[' + b"x" * 100, True, "ndjson"),
    (b'[{"resourceType":"Patient"},' + b"x" * 100, True, "document"),
    (b"not json at all\n", False, "ndjson"),
    (codecs.BOM_UTF8 + OBJ + b"\n", False, "ndjson"),
    (codecs.BOM_UTF8 + b'{\n  "resourceType": "Bundle",\n', True, "document"),
    # nesting deeper than any parser's stack still closes on its line
    (b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}\n" + OBJ, False, "ndjson"),
    # brackets inside strings do not count
    (b'{"div":"}}]]{{","id":"a"}\n', False, "ndjson"),
    (b'{"div":"\\"}{"\n  "id": "a"\n}\n', False, "document"),
    # a broken first line followed by NDJSON lines is NDJSON (each line is classified on its own)
    (b'{"resourceType": "Patient", "id": "p1"\n' + OBJ + b"\n", False, "ndjson"),
])
def test_text_format(text, cut, fmt):
    assert text_format(text, cut) == fmt


@pytest.mark.parametrize(("encoding", "name"), [
    ("utf-16", "utf-16"), ("utf-16-be", None), ("utf-32", "utf-32"), ("utf-8-sig", "utf-8"), ("utf-8", "utf-8"),
])
def test_bom_encoding(encoding, name):
    data = "{}\n".encode(encoding)
    if encoding == "utf-16-be":  # Python writes no mark for an explicit byte order: add one
        data, name = codecs.BOM_UTF16_BE + data, "utf-16"
    assert bom_encoding(data) == name
    assert data.decode(name if name != "utf-8" else "utf-8-sig").strip() == "{}"


def test_split_lines_splits_where_hadoop_does_only():
    data = b'a\r\nb\rc\nd\xe2\x80\xa8e\x0bf\n\nlast'  # U+2028 and VT are not line ends
    assert split_lines(data) == [b"a", b"b", b"c", b'd\xe2\x80\xa8e\x0bf', b"", b"last"]
    assert split_lines(b"x\n") == [b"x"]
    assert split_lines(b"") == []
