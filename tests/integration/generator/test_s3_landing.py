"""`fhirpulse generate` landing in S3 on a real moto server over HTTP (no mocks).

The module starts its own moto server (so its objects stay out of the shared stack's raw prefix, which the
bronze tests ingest) and points a copy of config/local.json at it through $FHIRPULSE_CONFIG_DIR, so the command under test
builds its client exactly as in production: load_config(env) + fhirpulse.core.aws.client(cfg, "s3").
"""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from fhirpulse.cli import app
from fhirpulse.core.aws import client
from fhirpulse.core.config import REPO_ROOT, load_config, parse_config
from fhirpulse.stack.processes import start_moto, stop_process_group

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    pid, port = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(pid)


@pytest.fixture(scope="module")
def s3_env(moto_url, tmp_path_factory, monkeypatch_module):
    """config/local.json with aws.endpoint_url = the moto server, as environment 'generatortest'."""
    data = json.loads((REPO_ROOT / "config" / "local.json").read_text())
    data["env"] = "generatortest"
    data["aws"]["endpoint_url"] = moto_url
    data.setdefault("generator", {}).update({"s3_part_size_mb": 5, "validate_sample": 0.01})
    config_dir = tmp_path_factory.mktemp("config")
    (config_dir / "generatortest.json").write_text(json.dumps(data))
    monkeypatch_module.setenv("FHIRPULSE_CONFIG_DIR", str(config_dir))
    cfg = parse_config(data)
    assert load_config("generatortest") == cfg
    s3 = client(cfg, "s3")
    s3.create_bucket(Bucket=cfg.s3.bucket)
    return cfg, s3


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _generate(*args: str) -> None:
    result = CliRunner().invoke(app, ["generate", "--env", "generatortest", "--no-progress", "--workers", "2", *args])
    assert result.exit_code == 0, result.output


def _keys(s3, bucket: str, prefix: str) -> dict[str, dict]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"]: item for page in pages for item in page.get("Contents", [])}


def test_ndjson_lands_under_the_raw_prefix_with_multipart_and_same_bytes_as_locally(s3_env, tmp_path):
    cfg, s3 = s3_env
    _generate("-n", "150", "--seed", "11", "--out", "raw")
    _generate("-n", "150", "--seed", "11", "--out", str(tmp_path))

    landed = _keys(s3, cfg.s3.bucket, cfg.s3.raw_prefix + "/")
    assert {key.split("/")[2] for key in landed} == {"Patient", "Encounter", "Condition", "Observation",
                                                     "Organization"}
    for key in landed:
        assert key.startswith(f"{cfg.s3.raw_prefix}/") and key.endswith("/dt=2024-12-31/batch-00001-seed-11.ndjson")
        local = tmp_path / key.removeprefix(f"{cfg.s3.raw_prefix}/")
        assert s3.get_object(Bucket=cfg.s3.bucket, Key=key)["Body"].read() == local.read_bytes()
    observations = next(item for key, item in landed.items() if "/Observation/" in key)
    assert observations["Size"] > 2 * 5 * 1024 * 1024
    assert observations["ETag"].strip('"').rsplit("-", 1)[1].isdigit()  # a multipart upload's ETag is "<md5>-<parts>"
    assert not s3.list_multipart_uploads(Bucket=cfg.s3.bucket).get("Uploads")

    # The run summary is JSON beside the raw prefix, never under it.
    summary_key = f"{cfg.generator.summary_prefix}/batch-00001-seed-11/generation-summary.json"
    summary = json.loads(s3.get_object(Bucket=cfg.s3.bucket, Key=summary_key)["Body"].read())
    assert summary["target"] == f"s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}"
    assert summary["validation"]["checked"] > 0 and summary["validation"]["failed"] == 0
    assert not summary_key.startswith(cfg.s3.raw_prefix)


def test_gzip_bundles_land_one_object_per_patient_under_an_explicit_prefix(s3_env):
    cfg, s3 = s3_env
    _generate("-n", "40", "--format", "bundle", "--gzip", "--out", f"s3://{cfg.s3.bucket}/landing/bundles")
    landed = _keys(s3, cfg.s3.bucket, "landing/bundles/")
    assert len(landed) == 41 and all(k.startswith("landing/bundles/Bundle/dt=2024-12-31/") for k in landed)
    patients = 0
    for key in landed:
        bundle = json.loads(gzip.decompress(s3.get_object(Bucket=cfg.s3.bucket, Key=key)["Body"].read()))
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        patients += sum(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"])
    assert patients == 40


def test_an_update_batch_lands_beside_the_first(s3_env):
    cfg, s3 = s3_env
    _generate("-n", "60", "--seed", "12", "--out", "raw")
    _generate("-n", "60", "--seed", "12", "--batch", "2", "--update-fraction", "0.5", "--out", "raw")
    first = _keys(s3, cfg.s3.bucket, f"{cfg.s3.raw_prefix}/Patient/dt=2024-12-31/batch-00001-seed-12")
    second = _keys(s3, cfg.s3.bucket, f"{cfg.s3.raw_prefix}/Patient/dt=2025-01-07/batch-00002-seed-12")
    assert len(first) == 1 and len(second) == 1

    def patients(key):
        body = s3.get_object(Bucket=cfg.s3.bucket, Key=key)["Body"].read()
        return {p["id"]: p for p in map(json.loads, body.splitlines())}

    before, after = patients(next(iter(first))), patients(next(iter(second)))
    updated = before.keys() & after.keys()
    assert 15 <= len(updated) <= 45 and len(after) - len(updated) == 60
    assert all(after[i]["meta"]["lastUpdated"] > before[i]["meta"]["lastUpdated"] for i in updated)
