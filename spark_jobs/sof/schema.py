"""The minimal Spark schema of a view: only the FHIR elements its paths touch.

The compiler registers every element it navigates into a `SchemaTree`; the tree then yields the
StructType that `from_json` parses `raw_json` with. Parsing only the used elements keeps the JSON parse
cheap on wide resources, and FHIR's own cardinality (from `model.py`) decides array vs. scalar, so no
data-driven schema inference (an extra pass over the data) is needed.

Types that a view walks recursively (`repeat`, e.g. QuestionnaireResponse.item inside item) have no
finite struct schema. They are kept as JSON text in their parent and parsed on access with one shared
struct, so every nesting level has the same Spark type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import types as T

from spark_jobs.sof import model
from spark_jobs.sof.model import ElementDef

# Leaves: decimals stay JSON text so that the written precision survives (lowBoundary needs it) and no
# float rounding happens; they are cast to DECIMAL_TYPE when used as numbers.
DECIMAL_TYPE = T.DecimalType(38, 10)
_LEAF_TYPES: dict[str, T.DataType] = {"boolean": T.BooleanType()} | {
    t: T.LongType() for t in model.INTEGER_TYPES
}


def leaf_type(type_code: str) -> T.DataType:
    return _LEAF_TYPES.get(type_code, T.StringType())


@dataclass
class SchemaField:
    elem: ElementDef
    node: SchemaNode | None  # complex elements: the node of their type at this location
    json: bool = False  # stored as JSON text (recursive types), parsed with `node`'s struct on access


@dataclass
class SchemaNode:
    """A JSON object of one FHIR type at one place in the resource."""

    tree: SchemaTree
    type_code: str
    fields: dict[str, SchemaField] = field(default_factory=dict)

    def register(self, elem: ElementDef) -> SchemaField:
        recursive = self.tree.recursive.get(elem.type)
        current = self.fields.get(elem.name)
        if current is not None and (recursive is None or current.json):
            return current
        if recursive is not None:
            new = SchemaField(elem, recursive, json=True)
        elif elem.primitive:
            new = SchemaField(elem, None)
        else:
            new = SchemaField(elem, SchemaNode(self.tree, elem.type))
        self.fields[elem.name] = new
        self.tree.version += 1
        return new

    def struct_type(self) -> T.StructType:
        return T.StructType([T.StructField(name, _field_type(f)) for name, f in self.fields.items()])


def _field_type(f: SchemaField) -> T.DataType:
    if f.json:
        inner: T.DataType = T.StringType()
    elif f.node is not None:
        inner = f.node.struct_type()
    else:
        inner = leaf_type(f.elem.type)
    return T.ArrayType(inner) if f.elem.many else inner


class SchemaTree:
    """All elements a view uses, rooted at its resource type. `version` grows with every change."""

    def __init__(self, resource_type: str, fhir_version: str):
        self.fhir_version = fhir_version
        self.recursive: dict[str, SchemaNode] = {}
        self.version = 0
        self.root = SchemaNode(self, resource_type)
        self.decimal_text = False  # a path reads decimals' written precision (lowBoundary/highBoundary)

    def mark_recursive(self, type_code: str) -> SchemaNode:
        """Store every element of `type_code` as JSON text parsed with one shared struct."""
        if type_code not in self.recursive:
            self.recursive[type_code] = SchemaNode(self, type_code)
            self.version += 1
        return self.recursive[type_code]

    def struct_type(self) -> T.StructType:
        return self.root.struct_type()
