"""Build the deployment zips from the checkout: the Glue job library and one zip per Lambda.

The job library is exactly the code a local run imports below the jobs: `fhirpulse.core` and `spark_jobs`
(the layering test keeps them free of anything else), shipped to Glue as `--extra-py-files`. Each Lambda zip
holds only its own folder (lambdas import nothing of ours). Zips are reproducible: sorted entries, fixed
timestamps and modes, so an unchanged checkout gives byte-identical files and Terraform's etag / source hash
stay put.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core.config import REPO_ROOT

DIST_DIR = REPO_ROOT / "dist"
LIBRARY_ZIP = Path("glue") / "fhirpulse_jobs.zip"
# Below these, every Python file and package data file ships (tests, caches and notebooks do not exist there).
LIBRARY_ROOTS = ("fhirpulse/core", "spark_jobs")
LIBRARY_TOP_FILES = ("fhirpulse/__init__.py",)
LIBRARY_SUFFIXES = (".py", ".properties")
LAMBDAS_DIR = "lambdas"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Artifact:
    path: Path
    files: int

    @property
    def md5(self) -> str:
        return hashlib.md5(self.path.read_bytes()).hexdigest()  # noqa: S324 (S3's etag, not security)


def library_files(root: Path = REPO_ROOT) -> list[str]:
    """Repo-relative paths of the job library, sorted."""
    found = set(LIBRARY_TOP_FILES)
    for top in LIBRARY_ROOTS:
        for path in (root / top).rglob("*"):
            if path.is_file() and path.suffix in LIBRARY_SUFFIXES and "__pycache__" not in path.parts:
                found.add(path.relative_to(root).as_posix())
    return sorted(found)


def lambda_names(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.parent.name for p in (root / LAMBDAS_DIR).glob("*/handler.py"))


def _write_zip(target: Path, entries: dict[str, bytes]) -> Artifact:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    partial.replace(target)  # never a half-written zip under the name Terraform reads
    return Artifact(target, len(entries))


def build_library(out_dir: Path = DIST_DIR, root: Path = REPO_ROOT) -> Artifact:
    return _write_zip(out_dir / LIBRARY_ZIP, {name: (root / name).read_bytes() for name in library_files(root)})


def build_lambda(name: str, out_dir: Path = DIST_DIR, root: Path = REPO_ROOT) -> Artifact:
    folder = root / LAMBDAS_DIR / name
    entries = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.py")
               if "__pycache__" not in p.parts and p.name != "__init__.py"}
    return _write_zip(out_dir / "lambda" / f"{name}.zip", entries)


def build_all(out_dir: Path = DIST_DIR, root: Path = REPO_ROOT) -> list[Artifact]:
    return [build_library(out_dir, root), *(build_lambda(name, out_dir, root) for name in lambda_names(root))]
