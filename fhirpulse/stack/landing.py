"""Land local files under the raw prefix (for real exports such as Synthea's, and for tests)."""

from __future__ import annotations

from pathlib import Path

from boto3.s3.transfer import TransferConfig

from fhirpulse.core import aws
from fhirpulse.core.config import Config

_MULTIPART = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024)


def upload_tree(cfg: Config, source: Path, subprefix: str = "") -> list[str]:
    """Upload a file or every file under a folder to s3://bucket/<raw_prefix>/<subprefix>/…; returns keys."""
    s3 = aws.client(cfg, "s3")
    base = "/".join(p for p in (cfg.s3.raw_prefix, subprefix.strip("/")) if p)
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    keys = []
    for path in files:
        rel = path.name if source.is_file() else path.relative_to(source).as_posix()
        key = f"{base}/{rel}"
        s3.upload_file(str(path), cfg.s3.bucket, key, Config=_MULTIPART)
        keys.append(key)
    return keys
