"""FHIRPath/ViewDefinition compilation on tiny frames, including the clear-error cases."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from spark_jobs.sof import UnsupportedViewError, ViewDefinitionError, compile_view, run_view
from spark_jobs.sof.sources import frame_from_resources

PATIENTS = [
    {"resourceType": "Patient", "id": "p1", "active": True, "gender": "female", "birthDate": "1970-06",
     "name": [{"use": "official", "family": "Smith", "given": ["Ann", "Marie"]},
              {"use": "maiden", "family": "Jones", "given": ["Ann"]}],
     "telecom": [{"system": "phone", "value": "555-1"}, {"system": "email", "value": "a@x"}],
     "extension": [{"url": "http://x/birthsex", "valueCode": "F"},
                   {"url": "http://x/race", "extension": [{"url": "code", "valueCoding": {"code": "2106-3"}}]}],
     "deceasedDateTime": "2020-01-01",
     "managingOrganization": {"reference": "Organization/o1"},
     "generalPractitioner": [{"reference": "urn:uuid:pr-1"},
                             {"reference": "Practitioner?identifier=http://npi|123"}]},
    {"resourceType": "Patient", "id": "p2", "active": False, "gender": "male",
     "name": [{"family": "Brown", "given": [None, "Bob"]}], "deceasedBoolean": False},
    {"resourceType": "Patient", "id": "p3"},
    {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "t"},
     "valueQuantity": {"value": 1.50, "unit": "kg"}},
    {"resourceType": "Observation", "id": "o2", "status": "final", "code": {"text": "t"}, "valueInteger": 7},
]


@pytest.fixture(scope="module")
def frame(spark):
    return frame_from_resources(spark, PATIENTS)


def columns(*cols: dict, resource: str = "Patient", **extra) -> dict:
    return {"resource": resource, "select": [{"column": list(cols)}], **extra}


def col(name: str, path: str, type_: str | None = None, **extra) -> dict:
    return {"name": name, "path": path, **({"type": type_} if type_ else {}), **extra}


def rows(frame, view) -> list[tuple]:
    return sorted(tuple(r) for r in run_view(frame, view).collect())


# ------------------------------------------------------------------------------------------- values


def test_columns_have_declared_types_in_order(spark, frame):
    view = columns(col("id", "id", "id"), col("active", "active", "boolean"), col("birth", "birthDate", "date"),
                   col("n_names", "name.count()", "integer"), resource="Patient")
    actual = run_view(frame, view)
    schema = T.StructType([T.StructField("id", T.StringType()), T.StructField("active", T.BooleanType()),
                           T.StructField("birth", T.StringType()), T.StructField("n_names", T.IntegerType())])
    expected = spark.createDataFrame([("p1", True, "1970-06", 2), ("p2", False, None, 1), ("p3", None, None, 0)],
                                     schema)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_parse_schema_holds_only_the_used_elements():
    compiled = compile_view(columns(col("family", "name.where(use = 'official').family.first()")))
    assert compiled.schema.simpleString() == "struct<id:string,name:array<struct<use:string,family:string>>>"


def test_where_first_index_join_exists_empty(frame):
    view = columns(
        col("id", "id"),
        col("official", "name.where(use = 'official').family.first()"),
        col("second", "name[1].family"),
        col("givens", "name.given.join('|')"),
        col("has_phone", "telecom.exists(system = 'phone')"),
        col("no_name", "name.empty()"),
        col("phone", "telecom.where(system = 'phone').value"),
    )
    assert rows(frame, view) == [
        ("p1", "Smith", "Jones", "Ann|Marie|Ann", True, False, "555-1"),
        ("p2", None, None, "Bob", False, False, None),  # JSON null items are no items
        ("p3", None, None, "", False, True, None),
    ]


def test_boolean_logic_is_three_valued(frame):
    view = columns(col("id", "id"), col("a", "active and gender = 'female'"), col("o", "active or gender = 'x'"),
                   col("i", "active implies gender = 'female'"), col("n", "active.not()"))
    assert rows(frame, view) == [("p1", True, True, True, False), ("p2", False, False, True, True),
                                 ("p3", None, None, None, None)]


def test_extension_and_choice_types(frame):
    view = columns(
        col("id", "id"),
        col("sex", "extension('http://x/birthsex').value.ofType(code).first()", "code"),
        col("race", "extension('http://x/race').extension('code').value.ofType(Coding).code.first()", "code"),
        col("dead", "deceased.ofType(dateTime).exists() or deceased.ofType(boolean).where($this).exists()"),
        col("dead_at", "deceased.ofType(dateTime)"),
        col("has_deceased", "deceased.exists()"),
    )
    assert rows(frame, view) == [("p1", "F", "2106-3", True, "2020-01-01", True),
                                 ("p2", None, None, False, None, True),
                                 ("p3", None, None, False, None, False)]


def test_reference_keys(frame):
    view = columns(col("id", "getResourceKey()"),
                   col("org", "managingOrganization.getReferenceKey(Organization)"),
                   col("wrong_type", "managingOrganization.getReferenceKey(Patient)"),
                   col("gps", "generalPractitioner.getReferenceKey()", collection=True))
    # urn:uuid references keep their id; conditional references ('?identifier=') have no key.
    assert rows(frame, view) == [("p1", "o1", None, ["pr-1"]), ("p2", None, None, []), ("p3", None, None, [])]


def test_numbers_and_boundaries(frame):
    view = columns(col("id", "id"),
                   col("kg", "value.ofType(Quantity).value", "decimal"),
                   col("double", "value.ofType(Quantity).value * 2", "decimal"),
                   col("low", "value.ofType(Quantity).value.lowBoundary()", "decimal"),
                   col("int_plus", "value.ofType(integer) + 1", "integer"),
                   col("div", "value.ofType(integer) / 2", "decimal"),
                   col("big", "value.ofType(integer) > 5 and value.ofType(integer) <= 7"),
                   resource="Observation")
    assert rows(frame, view) == [
        ("o1", Decimal("1.5"), Decimal("3.0"), Decimal("1.45"), None, None, None),
        ("o2", None, None, None, 8, Decimal("3.5"), True),
    ]


def test_date_boundaries(frame):
    view = columns(col("id", "id"), col("lo", "birthDate.lowBoundary()", "date"),
                   col("hi", "birthDate.highBoundary()", "date"),
                   col("dt_hi", "deceased.ofType(dateTime).highBoundary()", "dateTime"))
    assert rows(frame, view)[0] == ("p1", "1970-06-01", "1970-06-30", "2020-01-01T23:59:59.999-12:00")


def test_constants(frame):
    view = columns(col("id", "id"), col("n", "name.where(use = %use).family.first()"),
                   col("i", "name[%i].family"),
                   constant=[{"name": "use", "valueCode": "maiden"}, {"name": "i", "valueInteger": 0}])
    assert rows(frame, view) == [("p1", "Jones", "Smith"), ("p2", None, "Brown"), ("p3", None, None)]


def test_collection_column_is_an_array_never_null(frame):
    view = columns(col("id", "id"), col("given", "name.given", "string", collection=True))
    compiled = compile_view(view)
    assert compiled.output_schema["given"].dataType == T.ArrayType(T.StringType())
    assert rows(frame, view) == [("p1", ["Ann", "Marie", "Ann"]), ("p2", ["Bob"]), ("p3", [])]


def test_several_values_in_a_scalar_column_fail_at_run_time(frame):
    with pytest.raises(Exception, match="returned more than one item"):
        run_view(frame, columns(col("family", "name.family"))).collect()


@pytest.mark.parametrize("op", ["+", "<"])
def test_several_values_beside_an_empty_first_operand_give_empty_and_an_error_as_the_first(frame, op):
    """FHIRPath leaves open which check comes first (an empty operand gives empty, several items an error);
    the engine's operators skip their second operand when the first is empty (Spark's null-intolerant
    expressions), and check the first before the second. The FHIRPath property test's oracle leaves this case
    unchecked (its seed 35240979121020941970517981292467863408 found it)."""
    p1 = columns(col("id", "id"), col("x", f"name.where(false).family {op} name.family"), where=[{"path": "id = 'p1'"}])
    assert rows(frame, p1) == [("p1", None)]
    with pytest.raises(Exception, match=f"left operand of '{re.escape(op)}' returned more than one item"):
        run_view(frame, columns(col("x", f"name.family {op} name.where(false).family"),
                                where=[{"path": "id = 'p1'"}])).collect()


# ----------------------------------------------------------------------------------------- structure


def test_for_each_or_null_row_index_and_union(frame):
    view = {"resource": "Patient", "select": [
        {"column": [col("id", "id")]},
        {"forEachOrNull": "name", "column": [col("i", "%rowIndex", "integer"), col("family", "family")]},
        {"unionAll": [{"forEach": "telecom", "column": [col("contact", "value")]},
                      {"column": [col("contact", "gender")]}]},
    ]}
    assert rows(frame, view) == [
        ("p1", 0, "Smith", "555-1"), ("p1", 0, "Smith", "a@x"), ("p1", 0, "Smith", "female"),
        ("p1", 1, "Jones", "555-1"), ("p1", 1, "Jones", "a@x"), ("p1", 1, "Jones", "female"),
        ("p2", 0, "Brown", "male"),
        ("p3", 0, None, None),  # forEachOrNull: one null row; the plain unionAll branch: one row
    ]


def test_for_each_keeps_its_rows_when_a_column_folds_to_empty(spark, frame):
    # Spark 3.5 with nested schema pruning (its default) returned no rows at all here: `gender[1]` compiles
    # to a CASE that the optimizer folds to null inside the forEach's `inline`. Every session the project
    # makes has it off (lake.session.SESSION_SQL_CONF), this test's included.
    from spark_jobs.lake.session import SESSION_SQL_CONF

    assert spark.conf.get("spark.sql.optimizer.nestedSchemaPruning.enabled") == "false"
    assert SESSION_SQL_CONF["spark.sql.optimizer.nestedSchemaPruning.enabled"] == "false"
    view = {"resource": "Patient", "select": [
        {"column": [col("id", "id"), col("second", "gender[1]")]},
        {"forEach": "telecom", "column": [col("contact", "value")]},
    ]}
    assert rows(frame, view) == [("p1", None, "555-1"), ("p1", None, "a@x")]


def test_where_filters_resources(frame):
    view = columns(col("id", "id"), where=[{"path": "name.exists()"}, {"path": "active = false"}])
    assert rows(frame, view) == [("p2",)]


def test_repeat_is_depth_first_with_row_index(spark):
    qr = {"resourceType": "QuestionnaireResponse", "id": "q", "status": "completed", "item": [
        {"linkId": "1", "item": [{"linkId": "1.1", "answer": [{"item": [{"linkId": "1.1.1"}]}]}]},
        {"linkId": "2"}]}
    view = {"resource": "QuestionnaireResponse", "select": [
        {"repeat": ["item", "answer.item"], "column": [col("i", "%rowIndex", "integer"), col("link", "linkId")]}]}
    actual = run_view(frame_from_resources(spark, [qr]), view).collect()
    assert [tuple(r) for r in actual] == [(0, "1"), (1, "1.1"), (2, "1.1.1"), (3, "2")]


# ------------------------------------------------------------------------------------------- errors


def test_unsupported_function_names_construct_and_location():
    view = columns(col("a", "id"), col("b", "id"), col("c", "descendants().count()"))
    with pytest.raises(UnsupportedViewError) as err:
        compile_view(view)
    assert str(err.value) == "FHIRPath function 'descendants()' at select[0].column[2].path"


@pytest.mark.parametrize(("view", "error", "message"), [
    ({}, ViewDefinitionError, "ViewDefinition.resource is required"),
    (columns(col("a", "id"), resource="NotAType"), ViewDefinitionError, "unknown FHIR R4B resource type"),
    (columns(col("a", "name.where(use = %nope).family")), ViewDefinitionError, "undefined constant '%nope'"),
    (columns(col("a", "id"), where=[{"path": "name.family"}]), ViewDefinitionError, "where path must be boolean"),
    (columns(col("a", "name")), ViewDefinitionError, "complex type HumanName"),
    (columns(col("a", "@@")), ViewDefinitionError, "unexpected character '@'"),
    (columns(col("a", "id"), col("a", "gender")), ViewDefinitionError, "column names must be unique"),
    (columns(col("a b", "id")), ViewDefinitionError, "column name 'a b'"),
    (columns(col("a", "deceased")), UnsupportedViewError, r"choice element 'deceased\[x\]' used without ofType\(\)"),
    (columns(col("a", "id", "Reference")), UnsupportedViewError, "column type 'Reference'"),
    (columns(col("a", "id"), constant=[{"name": "c", "valueCoding": {}}]), UnsupportedViewError,
     "constant type 'valueCoding'"),
    (columns(col("a", "id"), constant=[{"name": "c"}]), ViewDefinitionError, "exactly one value"),
    ({"resource": "Patient", "select": [{"foreach": "name", "column": [col("a", "id")]}]}, UnsupportedViewError,
     r"select key\(s\) \['foreach'\]"),
    ({"resource": "Patient", "select": [{"unionAll": [{"column": [col("a", "id")]},
                                                      {"column": [col("b", "id")]}]}]},
     ViewDefinitionError, "same columns in the same order"),
    ({"resource": "Patient", "select": [{"forEach": 1, "column": [col("a", "id")]}]}, ViewDefinitionError,
     "forEach must be a FHIRPath string"),
    (columns(col("a", "contained.id")), UnsupportedViewError, "contained resources"),
    (columns(col("a", "gender.foo")), UnsupportedViewError, "member 'foo' of primitive type 'code'"),
    (columns(col("a", "name.family < 3")), ViewDefinitionError, "cannot compare string with integer"),
    (columns(col("a", "name.first(1)")), ViewDefinitionError, r"first\(\) takes 0 argument\(s\), got 1"),
    (columns(col("a", "deceased.first()")), UnsupportedViewError,
     r"first\(\) on choice element 'deceased\[x\]' without ofType\(\)"),
])
def test_invalid_or_unsupported_views_fail_clearly(view, error, message):
    with pytest.raises(error, match=message):
        compile_view(view)


def test_unknown_element_is_empty_and_logged(frame, caplog):
    # FHIRPath: an element the type does not define is an empty collection (the suite relies on it),
    # but a likely typo such as `birthdate` is reported.
    with caplog.at_level("WARNING", logger="spark_jobs.sof.compiler"):
        assert rows(frame, columns(col("id", "id"), col("b", "birthdate"))) == [("p1", None), ("p2", None),
                                                                                ("p3", None)]
    assert "Patient has no element 'birthdate'" in caplog.text
