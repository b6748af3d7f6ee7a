"""Build what Terraform deploys from the checkout: the Glue job library, one zip per Lambda, and the resolved
config of every environment.

The job library is exactly the code a local run imports below the jobs: `fhirpulse.core` and `spark_jobs`
(the layering test keeps them free of anything else), shipped to Glue as `--extra-py-files`. Each Lambda zip
holds only its own folder (lambdas import nothing of ours). Zips are reproducible: sorted entries, fixed
timestamps and modes, so an unchanged checkout gives byte-identical files and Terraform's etag / source hash
stay put.

Terraform reads the resolved configs (`dist/config/<env>.json`, `dist/config/workflow/pipeline.json`): each
file is the typed model's dump, every default filled in, so no default is restated in Terraform and the
environment files hold only what differs from the model.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core.config import REPO_ROOT, load_config
from fhirpulse.core.config.pipeline import PIPELINE_FILE, load_pipeline

DIST_DIR = REPO_ROOT / "dist"
LIBRARY_ZIP = Path("glue") / "fhirpulse_jobs.zip"
# Below these, every Python file and package data file ships (tests, caches and notebooks do not exist there).
LIBRARY_ROOTS = ("fhirpulse/core", "spark_jobs")
LIBRARY_TOP_FILES = ("fhirpulse/__init__.py",)
LIBRARY_SUFFIXES = (".py", ".properties")
LAMBDAS_DIR = "lambdas"
RESOLVED_DIR = Path("config")  # under the out dir: dist/config/<env>.json, as Terraform reads them
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


def _write_json(target: Path, data: object) -> Artifact:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    return Artifact(target, 1)


def build_configs(out_dir: Path = DIST_DIR, root: Path = REPO_ROOT) -> list[Artifact]:
    """Each `config/<env>.json` and the pipeline definition, validated and with every model default filled
    in (the JSON Terraform reads: it restates no default)."""
    source = root / "config"
    built = [_write_json(out_dir / RESOLVED_DIR / path.name, load_config(path=path).model_dump(mode="json"))
             for path in sorted(source.glob("*.json"))]
    pipeline = load_pipeline(source / PIPELINE_FILE).model_dump(mode="json")
    return [*built, _write_json(out_dir / RESOLVED_DIR / PIPELINE_FILE, pipeline)]


def build_all(out_dir: Path = DIST_DIR, root: Path = REPO_ROOT) -> list[Artifact]:
    return [build_library(out_dir, root), *(build_lambda(name, out_dir, root) for name in lambda_names(root)),
            *build_configs(out_dir, root)]
