"""What every dependency module shares: the cache folder, the error type, checksums and running a fetch."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from fhirpulse.core import envvars

HERE = Path(__file__).resolve().parent


class DependencyError(RuntimeError):
    """A runtime dependency could not be found, fetched or verified; the message names it."""


def cache_dir() -> Path:
    return envvars.path(envvars.CACHE, Path.home() / ".cache" / "fhirpulse")


def log(msg: str) -> None:
    print(f"[deps] {msg}", file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd: list[str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DependencyError(f"cannot fetch {what}: `{cmd[0]}` is not installed") from None
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln][:3]
        raise DependencyError(f"cannot fetch {what}:\n  " + "\n  ".join(errors or [proc.stderr[-2000:]]))
    return proc.stdout
