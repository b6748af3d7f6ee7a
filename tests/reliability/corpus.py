"""A bad-input corpus, generated: every case is raw files plus what bronze must make of them.

`Case.files` maps a file name to its bytes (written under the case's own folder and uploaded as they are);
`bronze` is the (resourceType, id) pairs that must be in bronze afterwards, `quarantined` the reasons bronze
must give, one per quarantined record (order-free), and `records` what the ledger must count in all. Every
record ends in bronze or in quarantine, so records == accepted + len(quarantined) for each case.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field

from spark_jobs.bronze.records import TRAILING_DATA as TRAILING


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes]
    bronze: frozenset[tuple[str, str]] = frozenset()
    quarantined: tuple[str, ...] = ()
    accepted: int | None = None  # records accepted into bronze (default: len(bronze))
    note: str = ""
    newest: dict[tuple[str, str], str] = field(default_factory=dict)  # (type, id) -> lastUpdated that must win

    @property
    def records(self) -> int:
        return (len(self.bronze) if self.accepted is None else self.accepted) + len(self.quarantined)


def _patient(pid: str, updated: str = "2024-01-01T00:00:00Z", **extra) -> dict:
    return {"resourceType": "Patient", "id": pid, "meta": {"lastUpdated": updated}, **extra}


def _line(resource: dict) -> bytes:
    return json.dumps(resource).encode()


def _ndjson(*resources: dict, sep: bytes = b"\n") -> bytes:
    return sep.join(_line(r) for r in resources) + sep


def _bundle(*entries: dict, kind: str = "collection") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _nested(depth: int) -> dict:
    value: dict = {"url": "leaf", "valueString": "x"}
    for _ in range(depth):
        value = {"url": "n", "extension": [value]}
    return value


def _deep_line(pid: str, levels: int) -> bytes:
    """A Patient whose extension nests `levels` times (each level an array and an object)."""
    return (b'{"resourceType":"Patient","id":"' + pid.encode() + b'","extension":' + b'[{"url":"n","extension":' * levels
            + b'[{"url":"leaf"}]' + b"}]" * levels + b"}")


def cases(max_record_bytes: int) -> list[Case]:
    p = _patient
    pair = frozenset
    return [
        Case("plain", {"a.ndjson": _ndjson(p("c01-a"), p("c01-b"))}, pair({("Patient", "c01-a"), ("Patient", "c01-b")})),
        Case("zero-bytes", {"empty.ndjson": b""}),
        Case("blank-lines-only", {"blank.ndjson": b"\n\n  \n\t\n\r\n"}),
        Case("utf8-bom", {"bom.ndjson": b"\xef\xbb\xbf" + _ndjson(p("c04-a"), p("c04-b"))},
             pair({("Patient", "c04-a"), ("Patient", "c04-b")}), note="the JSON parser skips a leading BOM"),
        Case("crlf", {"crlf.ndjson": _ndjson(p("c05-a"), p("c05-b"), sep=b"\r\n")},
             pair({("Patient", "c05-a"), ("Patient", "c05-b")})),
        Case("mixed-line-endings", {"mixed.ndjson": _line(p("c06-a")) + b"\r\n" + _line(p("c06-b")) + b"\n"
                                    + _line(p("c06-c")) + b"\r\n"},
             pair({("Patient", "c06-a"), ("Patient", "c06-b"), ("Patient", "c06-c")})),
        Case("invalid-utf8", {"latin1.ndjson": _ndjson(p("c07-ok")) + b'{"resourceType":"Patient","id":"c07-x",'
                              b'"name":[{"family":"M\xfcller"}]}\n'},
             pair({("Patient", "c07-ok")}), ("invalid UTF-8 byte sequence",)),
        Case("utf16", {"utf16.ndjson": _ndjson(p("c08-a"), p("c08-b")).decode().encode("utf-16")},
             pair({("Patient", "c08-a"), ("Patient", "c08-b")}), note="the byte order mark says UTF-16: decoded"),
        Case("50-mb-single-line", {"huge.ndjson": _ndjson(p("c09-ok")) + _line(p("c09-big", text={
            "status": "generated", "div": "x" * max(50_000_000, max_record_bytes + 10)})) + b"\n"},
             pair({("Patient", "c09-ok")}), (f"oversized record (more than {max_record_bytes} bytes)",)),
        Case("json-array-line", {"arr.ndjson": b'["Patient", "c10"]\n' + _ndjson(p("c10-ok"))},
             pair({("Patient", "c10-ok")}), ("not a JSON object",)),
        Case("json-array-file", {"arr.json": json.dumps([p("c11-a"), p("c11-b")], indent=2).encode()},
             pair({("Patient", "c11-a"), ("Patient", "c11-b")})),
        Case("single-object-file", {"one.json": json.dumps(p("c12"), indent=2).encode()}, pair({("Patient", "c12")})),
        Case("bundle-in-bundle", {"nested.json": json.dumps(_bundle(
            {"resource": p("c13-outer")},
            {"resource": _bundle({"resource": p("c13-inner")})})).encode()},
             pair({("Patient", "c13-outer")}), ("missing id",),
             note="the inner Bundle is one entry of the outer one; it has no id, so it is quarantined whole"),
        Case("bundle-entry-without-resource", {"b.json": json.dumps(_bundle(
            {"resource": p("c14-ok")}, {"request": {"method": "DELETE", "url": "Patient/c14-gone"}},
            kind="transaction")).encode()},
             pair({("Patient", "c14-ok")}), ("bundle entry without a resource",)),
        Case("unknown-resource-type", {"x.ndjson": _ndjson({"resourceType": "Spaceship", "id": "c15"})},
             quarantined=("not an R4 resource type: Spaceship",)),
        Case("r5-only-resource-type", {"r5.ndjson": _ndjson({"resourceType": "ActorDefinition", "id": "c16"})},
             quarantined=("not an R4 resource type: ActorDefinition",)),
        Case("lowercase-resource-type", {"lc.ndjson": _ndjson({"resourceType": "patient", "id": "c17"})},
             quarantined=("not an R4 resource type: patient",)),
        Case("numeric-id", {"n.ndjson": b'{"resourceType":"Patient","id":12345}\n'},
             quarantined=("id is not a JSON string",), note="FHIR JSON primitives have types: 12345 is no id"),
        Case("empty-id", {"e.ndjson": _ndjson({"resourceType": "Patient", "id": ""})}, quarantined=("missing id",)),
        Case("invalid-id", {"i.ndjson": _ndjson({"resourceType": "Patient", "id": "has space"})},
             quarantined=("invalid id: has space",)),
        Case("missing-resource-type", {"m.ndjson": _ndjson({"id": "c21"})}, quarantined=("missing resourceType",)),
        Case("synthea-log-line", {"log.ndjson": b'{"level":"INFO","message":"exported 10 patients"}\n'},
             quarantined=("missing resourceType",)),
        Case("truncated-last-line", {"cut.ndjson": _ndjson(p("c23-a")) + _line(p("c23-b"))[:25]},
             pair({("Patient", "c23-a")}), ("malformed JSON",)),
        Case("trailing-comma", {"tc.ndjson": b'{"resourceType":"Patient","id":"c24",}\n'},
             quarantined=("malformed JSON",)),
        Case("nul-bytes", {"nul.ndjson": b'{"resourceType":"Patient","id":"c26","x":"a\x00b"}\n'},
             quarantined=("malformed JSON",), note="a raw NUL inside a JSON string is not JSON"),
        Case("deep-nesting", {"deep.ndjson": _ndjson(p("c27", extension=[_nested(200)]))},
             pair({("Patient", "c27")})),
        Case("huge-numbers", {"num.ndjson": b'{"resourceType":"Observation","id":"c28","valueQuantity":'
                              b'{"value":123456789012345678901234567890.5e300}}\n'},
             pair({("Observation", "c28")}), note="kept as raw JSON text; nothing is parsed to a double here"),
        Case("future-dates", {"f.ndjson": _ndjson(p("c29", birthDate="2999-01-01"))}, pair({("Patient", "c29")}),
             note="bronze keeps it; silver flags the birth date in the future"),
        Case("duplicate-ids-in-one-file", {"dup.ndjson": _ndjson(p("c30", "2024-01-02T00:00:00Z", gender="male"),
                                                                 p("c30", "2024-01-01T00:00:00Z", gender="female"))},
             pair({("Patient", "c30")}), accepted=2, newest={("Patient", "c30"): "2024-01-02T00:00:00Z"}),
        Case("older-version-in-a-later-file", {
            "1-new.ndjson": _ndjson(p("c31", "2024-03-01T00:00:00Z")),
            "2-old.ndjson": _ndjson(p("c31", "2024-01-01T00:00:00Z"))},
             pair({("Patient", "c31")}), accepted=2, newest={("Patient", "c31"): "2024-03-01T00:00:00Z"}),
        Case("gzip-without-gz-name", {"zipped.ndjson": gzip.compress(_ndjson(p("c32")))}, pair({("Patient", "c32")})),
        Case("gz-name-not-gzip", {"plain.ndjson.gz": _ndjson(p("c33"))}, pair({("Patient", "c33")})),
        Case("gzip-empty", {"empty.ndjson.gz": gzip.compress(b"")}),
        Case("no-last-updated", {"nlu.ndjson": _ndjson({"resourceType": "Patient", "id": "c35"})},
             pair({("Patient", "c35")})),
        Case("whitespace-around-json", {"ws.ndjson": b"   " + _line(p("c36")) + b"   \n"}, pair({("Patient", "c36")})),
        Case("empty-bundle", {"eb.json": json.dumps(_bundle() | {"id": "c37"}).encode()}, pair({("Bundle", "c37")}),
             note="a Bundle with no entries stays one Bundle record"),
        # -- two records on one line, trailing data, primitives of the wrong type, other encodings, nesting
        Case("two-objects-on-one-line", {"two.ndjson": _line(p("c38-a")) + _line(p("c38-b")) + b"\n"
                                         + _ndjson(p("c38-c"))},
             pair({("Patient", "c38-c")}), (TRAILING,),
             note="two NDJSON files joined, the first without its final newline: the line is quarantined whole "
                  "(both objects in its raw text), the line after it is read"),
        Case("objects-with-a-comma-between", {"comma.ndjson": _line(p("c39-a")) + b", " + _line(p("c39-b")) + b"\n"},
             quarantined=(TRAILING,)),
        Case("object-then-garbage", {"garbage.ndjson": _line(p("c40-a")) + b" trailing words\n" + _ndjson(p("c40-b"))},
             pair({("Patient", "c40-b")}), (TRAILING,)),
        Case("bundle-then-an-object", {"bo.ndjson": _line(_bundle({"resource": p("c41-a")})) + _line(p("c41-b"))
                                       + b"\n"},
             quarantined=(TRAILING,), note="not unpacked: its entries would enter bronze and the object be lost"),
        Case("two-documents-in-one-file", {"docs.json": json.dumps(p("c42-a"), indent=2).encode() + b"\n"
                                           + json.dumps(p("c42-b"), indent=2).encode()},
             quarantined=(TRAILING,), note="a pretty-printed file holds one document; a second makes it one bad record"),
        Case("object-then-a-closing-bracket", {"cb.ndjson": _line(p("c54-a")) + b"]\n" + _ndjson(p("c54-b"))},
             pair({("Patient", "c54-b")}), (TRAILING,), note="an array's last line pasted as NDJSON"),
        Case("numeric-resource-type", {"nrt.ndjson": b'{"resourceType":7,"id":"c43"}\n'},
             quarantined=("resourceType is not a JSON string",)),
        Case("boolean-id", {"b.ndjson": b'{"resourceType":"Patient","id":true}\n'},
             quarantined=("id is not a JSON string",)),
        Case("decimal-id", {"d.ndjson": b'{"resourceType":"Patient","id":1.5}\n'},
             quarantined=("id is not a JSON string",)),
        Case("object-id", {"o.ndjson": b'{"resourceType":"Patient","id":{"value":"c46"}}\n'},
             quarantined=('invalid id: {"value":"c46"}',)),
        Case("numeric-id-string", {"ns.ndjson": b'{"resourceType":"Patient","id":"12345"}\n'},
             pair({("Patient", "12345")}), note="a string of digits is a valid FHIR id"),
        Case("utf16-big-endian", {"be.ndjson": b"\xfe\xff" + _ndjson(p("c48")).decode().encode("utf-16-be")},
             pair({("Patient", "c48")})),
        Case("utf32", {"u32.ndjson": _ndjson(p("c49")).decode().encode("utf-32")}, pair({("Patient", "c49")})),
        Case("utf16-gzip", {"u16.ndjson.gz": gzip.compress(_ndjson(p("c50")).decode().encode("utf-16"))},
             pair({("Patient", "c50")})),
        Case("nesting-past-the-parser-limit", {"deep2.ndjson": _deep_line("c51", 1200) + b"\n" + _ndjson(p("c51-ok"))},
             pair({("Patient", "c51-ok")}), ("malformed JSON",),
             note="the JSON parser stops at 1,000 levels of nesting (FHIR needs a few dozen)"),
        Case("multi-member-gzip", {"mm.ndjson.gz": gzip.compress(_ndjson(p("c52-a"))) + gzip.compress(_ndjson(p("c52-b")))},
             pair({("Patient", "c52-a"), ("Patient", "c52-b")}), note="gzip files joined: both members are read"),
        Case("null-resource-type", {"nul-rt.ndjson": b'{"resourceType":null,"id":"c53"}\n'},
             quarantined=("missing resourceType",)),
    ]


