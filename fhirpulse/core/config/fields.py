"""Field types and the strict base model shared by every config section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# S3 bucket rules (subset that catches typos): 3-63 chars, lowercase, digits, dots, hyphens.
_BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
# Glue database names: lowercase, digits, underscore (Athena and Trino both accept these unquoted).
_GLUE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,254}$"
_PREFIX_PATTERN = r"^[A-Za-z0-9!_.*'()/-]*[A-Za-z0-9!_.*'()-]$"

S3Bucket = Annotated[str, Field(pattern=_BUCKET_PATTERN)]
S3Prefix = Annotated[str, Field(pattern=_PREFIX_PATTERN, description="key prefix, no leading or trailing '/'")]
GlueName = Annotated[str, Field(pattern=_GLUE_NAME_PATTERN)]
ResourceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]


class Strict(BaseModel):
    """Unknown keys are errors (a typo fails fast) and a loaded config cannot be changed by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True)
