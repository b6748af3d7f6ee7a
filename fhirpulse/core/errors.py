"""Errors shared by every floor, and one way to say what a pydantic validation found."""

from __future__ import annotations

from pydantic import ValidationError


class ConfigError(ValueError):
    """Raised for any unusable configuration; the message names the key and the reason."""


def validation_problems(err: ValidationError, limit: int | None = None) -> list[str]:
    """`a.b.0: reason` for each problem pydantic found (the first `limit` of them)."""
    items = err.errors()[:limit] if limit is not None else err.errors()
    return [f"{'.'.join(str(p) for p in item['loc']) or '<root>'}: {item['msg']}" for item in items]
