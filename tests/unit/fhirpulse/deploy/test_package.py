"""The deployment zips: reproducible, and the job library holds what a job run imports and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from fhirpulse.core.config import REPO_ROOT
from fhirpulse.deploy.package import LIBRARY_ZIP, build_all, build_lambda, build_library, library_files


def test_an_unchanged_checkout_gives_byte_identical_zips(tmp_path):
    first = [a.path.read_bytes() for a in build_all(tmp_path / "a")]
    second = [a.path.read_bytes() for a in build_all(tmp_path / "b")]
    assert first == second
    assert (tmp_path / "a" / LIBRARY_ZIP).exists() and not list(tmp_path.rglob("*.partial"))


def test_the_library_holds_every_module_a_job_run_imports_and_nothing_else(tmp_path):
    names = set(zipfile.ZipFile(build_library(tmp_path).path).namelist())
    assert names == set(library_files())
    assert not any(n.startswith(("fhirpulse/cli", "fhirpulse/stack", "fhirpulse/workflow", "generator", "tests"))
                   for n in names)
    # what the Glue entry script pulls in, imported in a fresh interpreter: all of it ships
    code = ("import sys, spark_jobs.entrypoints.glue_job; print('\\n'.join(m.__file__ for m in list(sys.modules.values())"
            " if getattr(m, '__file__', None)))")
    files = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    ours = {f for f in files if f.startswith(tuple(str(REPO_ROOT / p) + "/" for p in ("fhirpulse", "spark_jobs",
                                                                                   "generator", "lambdas")))}
    assert ours, "the entry script imported nothing of ours?"
    assert {(REPO_ROOT / n).resolve() for n in names} >= {Path(f).resolve() for f in ours}
    assert "spark_jobs/lake/log4j2.properties" in names  # package data ships too


def test_a_lambda_zip_holds_only_its_own_code(tmp_path):
    artifact = build_lambda("ingest_trigger", tmp_path)
    assert zipfile.ZipFile(artifact.path).namelist() == ["handler.py"]
    assert artifact.files == 1


def test_terraform_reads_each_environment_resolved_by_the_model(tmp_path):
    import json

    from fhirpulse.core.config import config_dir, load_config, parse_config
    from fhirpulse.core.config.pipeline import Pipeline, load_pipeline
    from fhirpulse.deploy.package import build_configs

    built = {a.path.relative_to(tmp_path).as_posix(): a.path for a in build_configs(tmp_path)}
    envs = sorted(p.stem for p in config_dir().glob("*.json"))
    assert sorted(built) == sorted([*(f"config/{env}.json" for env in envs), "config/workflow/pipeline.json"])
    for env in envs:
        resolved = json.loads(built[f"config/{env}.json"].read_text())
        assert parse_config(resolved) == load_config(env)
        assert resolved["s3"]["scripts_prefix"] == load_config(env).s3.scripts_prefix  # defaults filled in
    pipeline = json.loads(built["config/workflow/pipeline.json"].read_text())
    assert Pipeline.model_validate(pipeline) == load_pipeline() and all("after" in job for job in pipeline["jobs"])
