"""Errors raised while validating or compiling a ViewDefinition.

Every error names *where* in the view it happened (e.g. `select[0].column[2].path`) so a user can fix
the view without reading the compiler.
"""

from __future__ import annotations

# Errors the engine raises inside Spark while rows are computed (e.g. a non-collection column that meets
# several values) start with this, so they can be told from any other failure of the job.
RUNTIME_ERROR_PREFIX = "SQL-on-FHIR:"


class ViewError(Exception):
    """Base class: the view cannot be turned into a Spark plan."""

    def __init__(self, message: str, location: str | None = None):
        self.message = message
        self.location = location
        super().__init__(f"{message} at {location}" if location else message)


class ViewDefinitionError(ViewError):
    """The view is invalid by the SQL-on-FHIR v2 spec (missing resource, bad column, unknown constant...)."""


class FhirPathSyntaxError(ViewDefinitionError):
    """A FHIRPath expression does not parse."""


class UnsupportedViewError(ViewError):
    """The view is valid but uses a construct this engine does not implement.

    Raised instead of producing a silently wrong column.
    """


def is_view_error(err: BaseException) -> bool:
    """The engine's own verdict that a view is wrong: an invalid ViewDefinition found while compiling, or the
    engine's runtime check failing inside Spark. Not an unsupported feature, and not any other exception."""
    if isinstance(err, ViewError):
        return isinstance(err, ViewDefinitionError)
    return RUNTIME_ERROR_PREFIX in str(err)
