"""FHIR structure knowledge: which elements exist, which repeat, and of which type.

Read from the `fhir.resources` pydantic models (a project dependency) rather than a hand-kept table, so
that "is `Patient.contact.name` a list?" (no) and "is `HumanName.given` a list?" (yes) are answered by
the FHIR specification itself. R4B (4.3) is the default: it matches R4 (what Synthea emits) for the
structure of every resource this project reads.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass
from functools import cache

# Annotated markers in fhir.resources / fhir_core -> FHIR primitive type code.
_MARKER_TYPES = {
    "String": "string", "Code": "code", "Id": "id", "Uri": "uri", "Url": "url", "Canonical": "canonical",
    "Oid": "oid", "UuidVersion": "uuid", "Uuid": "uuid", "Markdown": "markdown", "Base64Binary": "base64Binary",
    "Date": "date", "DateTime": "dateTime", "Instant": "instant", "Time": "time", "Integer": "integer",
    "Integer64": "integer64", "UnsignedInt": "unsignedInt", "PositiveInt": "positiveInt", "Decimal": "decimal",
    "Boolean": "boolean", "Xhtml": "xhtml",
}
PRIMITIVE_TYPES = frozenset(_MARKER_TYPES.values())
INTEGER_TYPES = frozenset({"integer", "unsignedInt", "positiveInt", "integer64"})
DEFAULT_FHIR_VERSION = "R4B"


@dataclass(frozen=True)
class ElementDef:
    """One element of a FHIR type as it appears in JSON."""

    name: str  # JSON property name, e.g. 'valueQuantity'
    type: str  # FHIR type code: 'string', 'boolean', 'HumanName', 'PatientContact', 'Resource', ...
    many: bool  # max cardinality '*': a JSON array

    @property
    def primitive(self) -> bool:
        return self.type in PRIMITIVE_TYPES


@dataclass(frozen=True)
class ChoiceDef:
    """A polymorphic element `value[x]`: its variants keyed by lower-cased type code."""

    base: str
    variants: dict[str, ElementDef]


def _package(version: str):
    if version not in ("R4B", "R5", "STU3"):
        raise ValueError(f"unsupported FHIR version {version!r} (R4B, R5 or STU3)")
    return importlib.import_module("fhir.resources" if version == "R5" else f"fhir.resources.{version}")


@cache
def is_known_type(type_code: str, version: str = DEFAULT_FHIR_VERSION) -> bool:
    try:
        _package(version).get_fhir_model_class(type_code)
    except (ValueError, ImportError, AttributeError):
        return False
    return True


def _unwrap(annotation) -> tuple[object, bool]:
    """(inner type, is_list) from `Optional[List[X]]`, `X | None`, ..."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, many
            annotation = args[0]
        elif origin in (list, typing.List):  # noqa: UP006 - matching what pydantic stores
            many = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, many


def _type_code(inner) -> str | None:
    if inner is bool:
        return "boolean"
    if typing.get_origin(inner) is typing.Annotated:
        for meta in typing.get_args(inner)[1:]:
            code = _MARKER_TYPES.get(type(meta).__name__)
            if code:
                return code
        return None
    name = getattr(inner, "__name__", "")
    if name.endswith("Type") and hasattr(inner, "get_model_klass"):
        return name[: -len("Type")]
    return None


@cache
def _definitions(type_code: str, version: str) -> tuple[dict[str, ElementDef], dict[str, ChoiceDef]]:
    klass = _package(version).get_fhir_model_class(type_code)
    elements: dict[str, ElementDef] = {}
    choices: dict[str, dict[str, ElementDef]] = {}
    for field in klass.model_fields.values():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if not extra.get("element_property"):
            continue  # `_given`-style primitive extensions and pydantic helpers
        inner, many = _unwrap(field.annotation)
        code = _type_code(inner)
        if code is None:
            continue
        elem = ElementDef(field.alias or "", code, many)
        elements[elem.name] = elem
        base = extra.get("one_of_many")
        if base:
            suffix = elem.name[len(base):]
            choices.setdefault(base, {})[suffix.lower()] = elem
    return elements, {b: ChoiceDef(b, v) for b, v in choices.items()}


def element(type_code: str, name: str, version: str = DEFAULT_FHIR_VERSION) -> ElementDef | None:
    """The element `name` of `type_code`, or None when the type has no such element."""
    if not is_known_type(type_code, version):
        return None
    return _definitions(type_code, version)[0].get(name)


def choice(type_code: str, base: str, version: str = DEFAULT_FHIR_VERSION) -> ChoiceDef | None:
    """The choice element `base` (`value` for `value[x]`) of `type_code`, or None."""
    if not is_known_type(type_code, version):
        return None
    return _definitions(type_code, version)[1].get(base)


def is_resource_type(type_code: str, version: str = DEFAULT_FHIR_VERSION) -> bool:
    """True for resource types (`Patient`), false for data types (`HumanName`) and backbone elements."""
    if not is_known_type(type_code, version):
        return False
    klass = _package(version).get_fhir_model_class(type_code)
    # R4B/STU3 resources derive from FHIRResourceModel, R5 ones from `Resource` (data types do not).
    return any(base.__name__ in ("FHIRResourceModel", "Resource") for base in klass.__mro__)
