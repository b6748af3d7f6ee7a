"""`--out` parsing and object-key rendering from the config's key templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core.config import Config


class TargetError(ValueError):
    """An unusable --out value or key template."""


@dataclass(frozen=True)
class Target:
    """A local directory (keys are paths under it) or an S3 bucket with the raw prefix keys start with."""

    root: Path | None = None
    bucket: str | None = None
    prefix: str = ""

    @property
    def is_s3(self) -> bool:
        return self.bucket is not None

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}" if self.is_s3 else str(self.root / key)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.is_s3 else str(self.root)


def parse_target(out: str, cfg: Config) -> Target:
    """'raw' = configured bucket + s3.raw_prefix; 's3://bucket/prefix'; anything else is a local directory."""
    if out == "raw":
        return Target(bucket=cfg.s3.bucket, prefix=cfg.s3.raw_prefix)
    if out.startswith("s3://"):
        bucket, _, prefix = out[len("s3://"):].partition("/")
        if not bucket:
            raise TargetError(f"--out {out!r}: no bucket name")
        return Target(bucket=bucket, prefix=prefix.strip("/"))
    if "://" in out:
        raise TargetError(f"--out {out!r}: only local directories, s3://bucket/prefix and 'raw' are supported")
    return Target(root=Path(out))


def render_key(template: str, target: Target, *, resource_type: str = "", date: str, batch: str,
               name: str = "") -> str:
    """Fill a key template; empty segments (e.g. no raw prefix for a local directory) are dropped."""
    try:
        key = template.format(raw_prefix=target.prefix, resource_type=resource_type, date=date, batch=batch,
                              name=name)
    except (KeyError, IndexError, ValueError) as err:
        raise TargetError(f"key template {template!r}: {err!r} (placeholders: raw_prefix, resource_type, date, "
                          "batch, name)") from None
    return "/".join(part for part in key.split("/") if part)
