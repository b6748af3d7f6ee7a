"""Errors raised while validating or compiling a ViewDefinition.

Every error names *where* in the view it happened (e.g. `select[0].column[2].path`) so a user can fix
the view without reading the compiler.
"""

from __future__ import annotations


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
