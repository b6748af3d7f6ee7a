"""What several integration modules share: an isolated environment on the shared stack, generated data,
and the KPI comparison against the plain-Python reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fhirpulse import stack
from fhirpulse.core import aws
from fhirpulse.core.config import CONFIG_DIR_VAR, LAYERS, Config, load_config
from fhirpulse.stack.envs import write_derived_config
from fhirpulse.stack.provision import provision


def isolated_config(env: str, folder: Path, **sections: dict) -> Path:
    """The env's own config (every name its own) in `folder`; see write_derived_config."""
    return write_derived_config(env, folder, **sections)


@contextmanager
def isolated_env(env: str, folder: Path, **sections: dict) -> Iterator[Config]:
    """The env's config, bound to the running stack and provisioned; CLI subprocesses find it too."""
    isolated_config(env, folder, **sections)
    previous = os.environ.get(CONFIG_DIR_VAR)
    os.environ[CONFIG_DIR_VAR] = str(folder)
    try:
        cfg = stack.resolve_stack_values(load_config(env))
        provision(cfg)
        yield cfg
    finally:
        if previous is None:
            os.environ.pop(CONFIG_DIR_VAR)
        else:
            os.environ[CONFIG_DIR_VAR] = previous


def generate(out: Path, env: str, patients: int, seed: int, batch: int = 1) -> Path:
    """A generated batch written as local files (no summary files: they are not FHIR)."""
    subprocess.run([sys.executable, "-m", "fhirpulse.cli", "generate", "-n", str(patients), "--seed", str(seed),
                    "--batch", str(batch), "--out", str(out), "--validate-sample", "0", "--no-progress",
                    "--env", env], check=True, capture_output=True)
    for summary in out.glob("generation-summary*"):
        summary.unlink()
    return out


def assert_equal_kpis(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        else:
            assert got[key] == value, key


# Columns that say when or by which run a row was written, not what it holds.
RUN_COLUMNS = ("_hoodie_commit_time", "_hoodie_commit_seqno", "_hoodie_record_key", "_hoodie_partition_path",
               "_hoodie_file_name", "run_id", "ingested_at", "precombine_ts", "_run_id", "_computed_at",
               "_bronze_commit")


def lake_tables(cfg: Config) -> list[tuple[str, str]]:
    """(layer, table) of every data table in the env's Glue databases (the audit tables left out)."""
    glue = aws.client(cfg, "glue")
    return sorted((layer, t["Name"]) for layer in LAYERS
                  for t in glue.get_tables(DatabaseName=cfg.glue.database(layer))["TableList"]
                  if t["Name"] != cfg.layer(layer).audit_table)


def table_content(spark, cfg: Config, layer: str, name: str, keep: tuple[str, ...] = ()) -> list[tuple]:
    """A table's rows, sorted, without the run columns (but those in `keep`), with the env's bucket name
    blanked out (source file paths name it): equal content in two environments gives equal lists."""
    spark.catalog.refreshByPath(cfg.s3.table_uri(layer, name))
    df = spark.read.format("hudi").load(cfg.s3.table_uri(layer, name))
    df = df.drop(*(c for c in RUN_COLUMNS if c not in keep))
    rows = df.select(*sorted(df.columns)).collect()
    bucket = cfg.s3.bucket
    return sorted(tuple(v.replace(bucket, "<bucket>") if isinstance(v, str) else v for v in row) for row in rows)


def commit_operation(cfg: Config, layer: str, table: str, instant: str) -> str:
    """The write operation Hudi recorded in a commit of a lake table (its timeline file on S3)."""
    key = f"{cfg.s3.lake_prefix}/{layer}/{table}/.hoodie/{instant}.commit"
    body = aws.client(cfg, "s3").get_object(Bucket=cfg.s3.bucket, Key=key)["Body"].read()
    return json.loads(body)["operationType"]
