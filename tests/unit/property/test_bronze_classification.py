"""Bronze record classification (`spark_jobs/bronze/records.py`) against a plain-Python oracle.

Generated raw lines — resources of every kind of R4 and non-R4 type, bundles, non-objects, broken and
invalid JSON, garbage text and bytes, whitespace, oversized records — go through `unpack_and_classify`
(and `number_lines` for the line-numbering property) in one tiny Spark job per example. The oracle below
decides each line from its bytes with Python's strict `json` and the written rules (README "Bronze",
docs in records.py); it calls no project code. Deliberate, documented choices it follows:

- an id or resourceType that is a JSON number or boolean is quarantined for it (not read as its text);
- anything after the object on the same line but JSON whitespace (a second object, `, {..}`, text)
  quarantines the line whole, a Bundle line included (it is not unpacked);
- a resource whose `meta` is not an object, or whose `entry` is not an array of objects, cannot be read
  with bronze's envelope schema: it is quarantined as malformed (FHIR gives them that shape in every type);
- a Bundle of an unpacked type is unpacked whatever its size: the size limit is per resource;
- an unpacked Bundle entry's raw JSON is its resource as Spark's JSON parser writes it back, without the
  spaces the line put between tokens (a resource line itself is kept byte for byte).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.bronze import records
from tests.unit.property.common import budget

MAX_BYTES = 600
INGESTED = "2024-01-01 00:00:00"
INGESTED_MICROS = 1_704_067_200_000_000

# FHIR 4.0.1's resource list (https://hl7.org/fhir/R4/resourcelist.html), written out by hand.
R4_TYPES = frozenset("""
Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse AuditEvent Basic
Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem
ChargeItemDefinition Claim ClaimResponse ClinicalImpression CodeSystem Communication CommunicationRequest
CompartmentDefinition Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement
DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario ExplanationOfBenefit
FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice Library Linkage List
Location Measure MeasureReport Media Medication MedicationAdministration MedicationDispense MedicationKnowledge
MedicationRequest MedicationStatement MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect MessageDefinition
MessageHeader MolecularSequence NamingSystem NutritionOrder Observation ObservationDefinition OperationDefinition
OperationOutcome Organization OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen SpecimenDefinition StructureDefinition
StructureMap Subscription Substance SubstanceNucleicAcid SubstancePolymer SubstanceProtein
SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
""".split())  # noqa: SIM905 - the list as the spec page prints it
NOT_R4 = ["SubscriptionTopic", "Citation", "Ingredient", "ActorDefinition", "Requirements", "DomainResource",
          "Resource", "patient", "PATIENT", "Spaceship", " Patient", "Patient ", "Patient\n"]
UNPACKED = ("transaction", "batch", "collection", "searchset", "history", "transaction-response", "batch-response")
ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
JAVA_SPACE = frozenset(b" \t\n\x0b\x0c\r")  # what Java's regex \s matches
JSON_SPACE = " \t\n\r"  # RFC 8259 whitespace
# Where the types generated here keep their patient reference (FHIR R4); None: they have none.
PATIENT_ELEMENT = {"Observation": "subject", "Condition": "subject", "Encounter": "subject",
                   "Immunization": "patient", "AllergyIntolerance": "patient", "Coverage": "beneficiary",
                   "ResearchSubject": "individual", "Organization": None, "Practitioner": None, "Medication": None}
ENVELOPE_KEYS = {"resourceType", "id", "meta", "type", "entry", "subject", "patient", "beneficiary", "individual"}
UNKNOWN = object()  # the oracle does not constrain this value


# ------------------------------------------------------------------------------------------------ oracle


@dataclass(frozen=True)
class Line:
    raw: bytes
    seps: tuple[str, str] | None = None  # how the line's JSON was written, when it was (entries' exact text)
    ensure_ascii: bool = False


@dataclass
class Expected:
    entry: int | None
    reason: str | None  # None: accepted
    reason_is_prefix: bool = False
    id: object = UNKNOWN
    resource_type: object = UNKNOWN
    last_updated: object = UNKNOWN  # epoch micros or None
    patient_id: object = UNKNOWN
    raw: object = UNKNOWN
    notes: list[str] = field(default_factory=list)


class _Malformed:
    pass


MALFORMED, NOT_OBJECT = _Malformed(), object()


def _reject(constant: str):
    raise ValueError(f"{constant} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject)  # strict RFC 8259: no NaN/Infinity


def parse_object(text: str):
    """The JSON object a text holds, NOT_OBJECT, or MALFORMED."""
    stripped = text.lstrip(JSON_SPACE)
    if not stripped.startswith("{"):
        return NOT_OBJECT
    try:
        value, _end = _DECODER.raw_decode(stripped)
    except (ValueError, RecursionError):
        return MALFORMED
    return value


def has_trailing_data(text: str) -> bool:
    """Anything but JSON whitespace after the first value (parse_object read an object)."""
    _value, end = _DECODER.raw_decode(text.lstrip(JSON_SPACE))
    return bool(text.lstrip(JSON_SPACE)[end:].strip(JSON_SPACE))


def bad_shape(obj: dict) -> bool:
    meta, entry = obj.get("meta"), obj.get("entry")
    if meta is not None and not isinstance(meta, dict):
        return True
    return entry is not None and (not isinstance(entry, list)
                                  or any(e is not None and not isinstance(e, dict) for e in entry))


def is_unpacked_bundle(value) -> bool:
    return (isinstance(value, dict) and not bad_shape(value) and value.get("resourceType") == "Bundle"
            and isinstance(value.get("type"), str) and value["type"] in UNPACKED
            and isinstance(value.get("entry"), list) and len(value["entry"]) > 0)


_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})")


def instant_micros(value) -> object:
    """A FHIR instant as epoch microseconds; None for text with no digits at all; else unconstrained."""
    if not isinstance(value, str):
        return None if value is None else UNKNOWN
    m = _INSTANT.fullmatch(value)
    if m is None:
        return None if not re.search(r"\d", value) else UNKNOWN
    y, mo, d, h, mi, s, frac, zone = m.groups()
    offset = timedelta(0) if zone == "Z" else (1 if zone[0] == "+" else -1) * timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone(offset))
    except ValueError:
        return UNKNOWN
    micros = int((frac or "0").ljust(6, "0"))
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) + micros


_PATIENT_REF = re.compile(r"(?:.+/)?Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?")
_URN_REF = re.compile(r"urn:uuid:([A-Za-z0-9\-.]{1,64})")


def patient_of(obj: dict, rtype: str) -> object:
    if rtype == "Patient":
        return obj["id"] if isinstance(obj.get("id"), str) else UNKNOWN
    if rtype not in PATIENT_ELEMENT:
        return UNKNOWN
    element = PATIENT_ELEMENT[rtype]
    ref = obj.get(element) if element else None
    reference = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(reference, str):
        return None
    m = _PATIENT_REF.fullmatch(reference) or _URN_REF.fullmatch(reference)
    return m.group(1) if m else None


def classify(entry: int | None, data: bytes, text: str | None, value) -> Expected:
    """One record (a line, or a Bundle entry's text): its reason, or what bronze keeps of it."""
    if len(data) > MAX_BYTES:
        return Expected(entry, f"oversized record (more than {MAX_BYTES} bytes)")
    if text is None:
        return Expected(entry, "invalid UTF-8 byte sequence")
    if value is NOT_OBJECT:
        return Expected(entry, "not a JSON object", raw=text)
    if value is MALFORMED or bad_shape(value):
        return Expected(entry, "malformed JSON", raw=text)
    if has_trailing_data(text):
        return Expected(entry, records.TRAILING_DATA, raw=text)
    rtype, rid = value.get("resourceType"), value.get("id")
    known_type = rtype if isinstance(rtype, str) else UNKNOWN
    known_id = rid if isinstance(rid, str) else UNKNOWN
    out = Expected(entry, None, id=known_id, resource_type=known_type, raw=text)
    if rtype is None or rtype == "":
        out.reason = "missing resourceType"
    elif isinstance(rtype, bool | int | float):
        out.reason = "resourceType is not a JSON string"
    elif not isinstance(rtype, str):
        out.reason, out.reason_is_prefix = "not an R4 resource type: ", True
    elif rtype not in R4_TYPES:
        out.reason = f"not an R4 resource type: {rtype}"
    elif rid is None or rid == "":
        out.reason = "missing id"
    elif isinstance(rid, str):
        if not ID_RE.fullmatch(rid):
            out.reason = f"invalid id: {rid}"
    elif isinstance(rid, bool | int | float):
        out.reason = "id is not a JSON string"  # FHIR JSON primitives have types: 12345 is no id
    else:
        out.reason, out.reason_is_prefix = "invalid id: ", True  # an object or array: braces are no id
    if out.reason is None:
        meta = value.get("meta") or {}
        out.last_updated = instant_micros(meta.get("lastUpdated"))
        out.patient_id = patient_of(value, rtype)
    return out


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jackson_string(text: str) -> str:
    """A JSON string as Jackson (Spark's JSON library) writes it: other characters raw, control characters as
    short or upper-case \\u escapes, those beyond the BMP as an upper-case surrogate pair of escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04X}")
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def jackson_compact(value) -> str:
    """A JSON value as Spark's parser writes it back: no spaces, strings as `_jackson_string`."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{_jackson_string(k)}:{jackson_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jackson_compact(v) for v in value) + "]"
    if isinstance(value, str):
        return _jackson_string(value)
    return json.dumps(value)


def _has_float(value) -> bool:
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return isinstance(value, float)


class JsonEqual:
    """An expected raw JSON text known only up to number formatting: equal to a text holding the same value."""

    def __init__(self, value) -> None:
        self.value = value

    def __eq__(self, other) -> bool:
        return isinstance(other, str) and json.loads(other) == self.value

    def __repr__(self) -> str:
        return f"JsonEqual({self.value!r})"


def expect_line(line: Line) -> list[Expected] | None:
    """What bronze must make of one raw line: None for a blank line (no record), else one Expected per
    record (a Bundle of an unpacked type gives one per entry)."""
    data = line.raw
    if not data.startswith(b"{") and all(b in JAVA_SPACE for b in data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [classify(None, data, None, None)]
    value = parse_object(text)
    if not is_unpacked_bundle(value) or has_trailing_data(text):  # a Bundle with more after it stays whole
        return [classify(None, data, text, value)]
    out = []
    for i, entry in enumerate(value["entry"], 1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            out.append(Expected(i, "bundle entry without a resource"))
            continue
        # A string's content is the entry's text; an object Spark's parser hands back re-serialized without
        # spaces (a documented choice above).
        entry_text = resource if isinstance(resource, str) else jackson_compact(resource)
        expected = classify(i, entry_text.encode(), entry_text, parse_object(entry_text))
        if expected.raw is not UNKNOWN and not isinstance(resource, str) and _has_float(resource):
            expected.raw = JsonEqual(resource)  # Java writes a double's digits its own way (1.0E-7)
        out.append(expected)
    return out


# ------------------------------------------------------------------------------------------------ inputs

valid_ids = st.from_regex(r"\A[A-Za-z0-9\-.]{1,64}\Z")
ids = st.one_of(
    valid_ids, valid_ids, valid_ids,
    st.just(""), st.none(), st.text(max_size=8), st.just("x" * 65), st.just("has space"),
    valid_ids.map(lambda s: s[:60] + "\n"), valid_ids.map(lambda s: s[:60] + "\u2028"),
    valid_ids.map(lambda s: s[:60] + "\r"), valid_ids.map(lambda s: "\n" + s[:60]),
    st.integers(-10**70, 10**70), st.booleans(), st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.just("a"), st.integers(0, 9), max_size=1),
)
resource_types = st.one_of(
    st.sampled_from(sorted(R4_TYPES)), st.sampled_from(sorted(PATIENT_ELEMENT) + ["Patient"] * 3 + ["Bundle"] * 3),
    st.sampled_from(NOT_R4), st.just(""), st.none(), st.integers(-5, 5), st.booleans(), st.just(["Patient"]),
    st.text(max_size=10).filter(lambda s: s not in R4_TYPES),
)
instants = st.builds(
    lambda d, secs, frac, zone: (datetime.combine(d, datetime.min.time()) + timedelta(seconds=secs)).strftime(
        "%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + zone,
    st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2100, 12, 31).date()),
    st.integers(0, 86399), st.one_of(st.just(""), st.from_regex(r"\A[0-9]{1,6}\Z")),
    st.one_of(st.just("Z"), st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
                                      st.integers(0, 14), st.sampled_from([0, 30, 45]))),
)
last_updated = st.one_of(instants, instants, st.just("2024-05-01"), st.text(alphabet="abcxyz :-T", max_size=8),
                         st.integers(0, 3000), st.none())
references = st.one_of(
    valid_ids.map(lambda i: f"Patient/{i}"), valid_ids.map(lambda i: f"https://fhir.example.org/r4/Patient/{i}"),
    valid_ids.map(lambda i: f"urn:uuid:{i}"), valid_ids.map(lambda i: f"Group/{i}"),
    valid_ids.map(lambda i: f"Patient/{i}/_history/2"), st.just("Patient?identifier=urn:x|42"), st.just("#p1"),
    st.integers(0, 9),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
extra_fields = st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ENVELOPE_KEYS), json_values,
                               max_size=3)


@st.composite
def resources(draw, depth: int = 0) -> dict:
    fields: dict = {}
    rtype = draw(resource_types)
    if draw(st.integers(0, 9)) > 0:
        fields["resourceType"] = rtype
    if draw(st.integers(0, 9)) > 0:
        fields["id"] = draw(ids)
    shape = draw(st.integers(0, 19))
    if shape < 12:
        fields["meta"] = {"lastUpdated": draw(last_updated)}
    elif shape == 12:
        fields["meta"] = draw(st.sampled_from([5, "x", [], None, {}]))
    element = PATIENT_ELEMENT.get(rtype) if isinstance(rtype, str) else None
    if element and draw(st.booleans()):
        fields[element] = {"reference": draw(references)}
    if rtype in ("Account", "Contract") and draw(st.booleans()):
        fields["subject"] = [{"reference": draw(references)}]  # R4: Account.subject and Contract.subject are 0..*
    if draw(st.integers(0, 14)) == 0:  # a reference element of the wrong shape (not FHIR, but valid JSON)
        fields[draw(st.sampled_from(["subject", "patient"]))] = draw(st.sampled_from(["Patient/p1", 3, []]))
    fields |= draw(extra_fields)
    if draw(st.integers(0, 5)) == 0:
        fields["text"] = {"div": "x" * draw(st.integers(0, MAX_BYTES + 50))}
    if depth == 0 and rtype == "Bundle" and draw(st.booleans()):
        fields["type"] = draw(st.sampled_from([*UNPACKED, "document", "message", "Transaction", 5]))
        fields["entry"] = draw(st.lists(entries(), max_size=3))
    keys = draw(st.permutations(list(fields)))
    return {k: fields[k] for k in keys}


@st.composite
def entries(draw) -> dict | None:
    kind = draw(st.integers(0, 9))
    if kind < 6:
        entry = {"resource": draw(resources(depth=1))}
    elif kind == 6:
        entry = {"request": {"method": "DELETE", "url": "Patient/gone"}}
    elif kind == 7:
        entry = {"resource": None}
    else:
        entry = {"resource": draw(st.sampled_from(["just text", 5, [1], True]))}
    if draw(st.booleans()):
        entry = {"fullUrl": f"urn:uuid:{draw(valid_ids)}", **entry}
    return entry


@st.composite
def json_lines(draw) -> Line:
    """A resource (or Bundle) written on one line, with JSON whitespace around it."""
    seps = draw(st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : ")]))
    ascii_only = draw(st.booleans())
    text = json.dumps(draw(resources()), separators=seps, ensure_ascii=ascii_only)
    lead, trail = draw(st.text(alphabet=JSON_SPACE.replace("\n", ""), max_size=2)), draw(
        st.text(alphabet=" \t", max_size=2))
    return Line((lead + text + trail).encode(), seps, ascii_only)


@st.composite
def documents(draw) -> Line:
    """A resource written over several lines (a whole-file document, as `read_documents` gives it)."""
    return Line(json.dumps(draw(resources()), indent=draw(st.integers(0, 2))).encode())


@st.composite
def invalid_json(draw) -> Line:
    good = json.dumps({"resourceType": "Patient", "id": draw(valid_ids)}, separators=(",", ":"))
    variants = [
        good[:-1],  # truncated
        good[: draw(st.integers(1, len(good) - 1))],
        good.replace('"', "'"),  # single quotes
        good[:-1] + ',"v":NaN}', good[:-1] + ',"v":-Infinity}',
        good[:-1] + ",}",  # trailing comma
        good.replace('"id"', "id"),  # unquoted key
        good[:-1] + ',"x":"a\x00b"}',  # a raw control character inside a string
        good[:-1] + ',"x":"a\\qb"}',  # an invalid escape
        good[:-1] + ',"n":012}',  # a leading zero
        "{" + good[1:-1] + "/* c */}",
    ]
    return Line(draw(st.sampled_from(variants)).encode())


@st.composite
def bad_bytes(draw) -> Line:
    """Valid JSON with an invalid UTF-8 sequence inside a string, or arbitrary bytes."""
    bad = draw(st.sampled_from([b"\xff", b"\xfc", b"\xc3", b"\x80", b"\xc0\x80", b"\xed\xa0\x80",
                                b"\xf4\x90\x80\x80", b"\xe2\x82"]))
    good = json.dumps(draw(resources()), separators=(",", ":")).encode()
    if good.endswith(b"}") and len(good) > 2:
        doc = good[:-1] + b',"x":"M' + bad + b'ller"}'
        return Line(draw(st.sampled_from([doc, bad + good, good[:1] + bad + good[1:]])))
    return Line(draw(st.binary(max_size=30)))


@st.composite
def concatenated(draw) -> Line:
    """A line with more after its first object: a second object (two NDJSON files joined, the first without
    its final newline; `{..}, {..}`) or other trailing text."""
    first = draw(json_lines()).raw
    rest = draw(st.one_of(json_lines().map(lambda line: line.raw),
                          st.sampled_from([b"x", b"]", b"}", b"null", b"]}", b"}]", b'"x":1'])))
    return Line(first + draw(st.sampled_from([b"", b" ", b",", b", ", b"\t"])) + rest)


non_objects = json_values.filter(lambda v: not isinstance(v, dict)).map(lambda v: Line(json.dumps(v).encode()))
garbage = st.text(max_size=30).map(lambda s: Line(s.encode()))
spaces = st.text(alphabet=" \t\x0b\x0c\r\u00a0\u2028\u2029\u0085\ufeff\u3000", max_size=4).map(
    lambda s: Line(s.encode()))
big_blank = st.integers(0, 2 * MAX_BYTES).map(lambda n: Line(b" " * n))
lines = st.one_of(json_lines(), json_lines(), json_lines(), json_lines(), documents(), invalid_json(), concatenated(),
                  bad_bytes(), non_objects, garbage, spaces, big_blank)


# --------------------------------------------------------------------------------------------- the code

_LINE = T.StructType([T.StructField("source_line", T.LongType()), T.StructField("split_start", T.LongType()),
                      T.StructField("row_id", T.LongType()), T.StructField("source_file", T.StringType()),
                      T.StructField("b64", T.StringType())])


def raw_frame(spark, rows: list[tuple[str, int | None, int | None, int | None, bytes]]):
    """(file, source_line, split_start, row_id, bytes) rows as RAW_RECORD_SCHEMA, built in the JVM from one
    literal (no Python worker); bytes travel as base64, so invalid UTF-8 reaches Spark as raw bytes."""
    literal = json.dumps([{"source_file": f, "source_line": n, "split_start": s, "row_id": r,
                           "b64": base64.b64encode(b).decode()} for f, n, s, r, b in rows])
    parsed = spark.range(1).select(F.inline(F.from_json(F.lit(literal), T.ArrayType(_LINE))))
    return parsed.select("source_file", F.lit("etag:1").alias("content_version"), "source_line", "split_start",
                         "row_id", F.unbase64("b64").cast("string").alias("text"))


def classify_in_spark(spark, frame):
    return records.unpack_and_classify(frame, "run-1", F.lit(INGESTED).cast("timestamp"), MAX_BYTES)


def _reason_ok(expected: Expected, got: str | None) -> bool:
    if expected.reason is None or got is None:
        return expected.reason == got
    return got.startswith(expected.reason) if expected.reason_is_prefix else got == expected.reason


# -------------------------------------------------------------------------------------------- properties


@budget(30)
@given(st.lists(lines, min_size=1, max_size=10))
def test_every_line_is_classified_as_the_oracle_says(fast_spark, batch):
    frame = raw_frame(fast_spark, [("f", n, None, None, line.raw) for n, line in enumerate(batch, 1)])
    out = classify_in_spark(fast_spark, frame).select(
        "source_line", "source_entry", "blank_line", "quarantine_reason", "id", "resource_type",
        F.unix_micros("last_updated").alias("last_updated"), "patient_id", "raw_json", "precombine_ts").collect()
    by_line: dict[int, list] = {}
    for row in out:
        by_line.setdefault(row.source_line, []).append(row)
    assert sorted(by_line) == list(range(1, len(batch) + 1)), "every line gives at least one row"
    for n, line in enumerate(batch, 1):
        rows = sorted(by_line[n], key=lambda r: r.source_entry or 0)
        expected = expect_line(line)
        where = f"line {n}: {line.raw[:200]!r}"
        if expected is None:
            assert [r.blank_line for r in rows] == [True], f"{where}: a blank line is one row, flagged blank"
            continue
        assert not any(r.blank_line for r in rows), f"{where}: not blank"
        assert [r.source_entry for r in rows] == [e.entry for e in expected], where
        for row, exp in zip(rows, expected, strict=True):
            at = f"{where} entry {exp.entry}"
            assert _reason_ok(exp, row.quarantine_reason), f"{at}: reason {row.quarantine_reason!r}, expected {exp}"
            for name in ("id", "resource_type", "last_updated", "patient_id"):
                value = getattr(exp, name)
                if value is not UNKNOWN:
                    assert getattr(row, name) == value, f"{at}: {name} {getattr(row, name)!r} != {value!r}"
            if exp.raw is not UNKNOWN:
                assert row.raw_json == exp.raw, f"{at}: raw JSON is kept verbatim"
            # Invariants, whatever the oracle says
            if row.quarantine_reason is None:
                assert row.resource_type in R4_TYPES and ID_RE.fullmatch(row.id or ""), at
            else:
                assert row.quarantine_reason.strip(), at
            newest = row.last_updated if row.last_updated is not None else INGESTED_MICROS
            assert row.precombine_ts == newest, f"{at}: the version key is lastUpdated, else the ingestion time"


@st.composite
def split_files(draw):
    """1-2 files, each read in 1-3 splits of consecutive row ids (as Spark's line reader gives them)."""
    files = []
    for name in ("s3://b/raw/a.ndjson", "s3://b/raw/b.ndjson")[: draw(st.integers(1, 2))]:
        body = draw(st.lists(st.one_of(json_lines(), spaces, garbage, invalid_json()), min_size=1, max_size=8))
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(body) - 1)), max_size=2)) - {len(body)})
        bounds = [0, *cuts, len(body)]
        splits = []
        for k, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
            first_row_id = draw(st.integers(0, 10**12))
            splits.append((k * 1000 + lo, first_row_id, body[lo:hi]))
        files.append((name, body, draw(st.permutations(splits))))
    return files


@budget(6)
@given(split_files())
def test_line_numbers_and_counts_reconcile(fast_spark, files):
    """Numbered across splits, every non-blank line is one record (or its Bundle entries), in exactly one of
    bronze and quarantine, and per file records = bronze rows + quarantined."""
    rows = [(name, None, split_start, first + i, line.raw)
            for name, _body, splits in files for split_start, first, part in splits
            for i, line in enumerate(part)]
    classified = classify_in_spark(fast_spark, raw_frame(fast_spark, rows)).persist()
    numbered = records.number_lines(classified, records.line_offsets(classified)).persist()
    try:
        numbered.count()  # one job numbers the lines; the three reads below hit the cache
        bronze = {(r.source_file, r.source_line, r.source_entry) for r in records.bronze_rows(numbered).collect()}
        quarantined = {(r.source_file, r.source_line, r.source_entry or None)
                       for r in records.quarantine_rows(numbered).collect()}
        counts: dict[str, tuple] = {}
        for r in records.per_file_counts(numbered).collect():
            before = counts.get(r.source_file, (0, 0, 0))
            counts[r.source_file] = tuple(a + b for a, b in zip(before, (r.records, r.bronze_rows, r.quarantined),
                                                                 strict=True))
    finally:
        numbered.unpersist()
        classified.unpersist()
    want_bronze, want_quarantined, want_counts = set(), set(), {}
    for name, body, _splits in files:
        for n, line in enumerate(body, 1):
            for exp in expect_line(line) or []:
                (want_bronze if exp.reason is None else want_quarantined).add((name, n, exp.entry))
        accepted = sum(1 for f, _, _ in want_bronze if f == name)
        rejected = sum(1 for f, _, _ in want_quarantined if f == name)
        if accepted + rejected:
            want_counts[name] = (accepted + rejected, accepted, rejected)
    assert bronze == want_bronze
    assert quarantined == want_quarantined
    assert counts == want_counts


@pytest.mark.parametrize(("line", "reason"), [
    ('{"resourceType":"Patient","id":"p1"}', None),
    ('\t{"resourceType":"Patient","id":"p1"}', None),
    ('{"resourceType":"Patient","id":"p1\\n"}', "invalid id: p1\n"),
    ("\u2028", "not a JSON object"),
])
def test_oracle_examples(line, reason):
    """The oracle itself, on hand-checked lines (so a broken oracle shows here, not as a Spark 'bug')."""
    (expected,) = expect_line(Line(line.encode()))
    assert expected.reason == reason
