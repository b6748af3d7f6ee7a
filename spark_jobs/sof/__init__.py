"""SQL-on-FHIR v2 ViewDefinitions compiled to Spark DataFrame operations (issue 5).

    from spark_jobs.sof import compile_view, run_view
    view_df = run_view(bronze_df, "config/views/patient.json")   # bronze: (resource_type, raw_json)
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
