"""SQL-on-FHIR v2 ViewDefinitions compiled to Spark DataFrame operations (issue 5).

    from spark_jobs.sof import compile_view, run_view
    view_df = run_view(bronze_df, "config/views/patient.json")   # bronze: (resource_type, raw_json)

Modules: `fhirpath` (tokenizer + recursive-descent parser -> AST), `model` (FHIR structure from the
fhir.resources R4B models), `schema` (the minimal from_json schema a view needs), `compiler` (FHIRPath
AST -> Spark Columns; functions in one registry, `compiler.functions`), `view` (ViewDefinition -> one
projection) with `scope`, `selection`, `columns`, `repeat` and `rows`, `suite` (official test-suite runner),
`sources` (NDJSON / in-memory resources -> bronze-shaped frames).

Semantics worth knowing:
- Output types: boolean -> BOOLEAN, integer/positiveInt/unsignedInt -> INT, integer64 -> BIGINT,
  decimal -> DECIMAL(38,10), every other primitive (incl. date, dateTime, instant, time) -> STRING in
  ISO form, because FHIR allows partial dates that DATE/TIMESTAMP cannot hold; `collection: true` ->
  ARRAY of those.
- A non-collection column whose path yields several items fails the query (spec) instead of picking one.
- An element the FHIR type does not define evaluates to empty (FHIRPath semantics; logged once as a
  likely typo); constructs the engine does not implement raise UnsupportedViewError naming the construct.
- Dates/times compare as ISO strings: exact for equal precision and offset, not FHIRPath's
  precision-aware comparison.
"""

from spark_jobs.sof.errors import FhirPathSyntaxError, UnsupportedViewError, ViewDefinitionError, ViewError
from spark_jobs.sof.view import CompiledView, ViewColumn, compile_view, load_view, run_view

__all__ = [
    "CompiledView",
    "FhirPathSyntaxError",
    "UnsupportedViewError",
    "ViewColumn",
    "ViewDefinitionError",
    "ViewError",
    "compile_view",
    "load_view",
    "run_view",
]
