"""Outages around the jobs: the AWS endpoint killed mid-commit and restarted, an upload killed half-way.

moto keeps its state in memory, so "restarted" needs its recorder: the dedicated moto server of the outage test
appends every request to a file, and the restarted server replays it, coming back with the state it had when
it died (as S3 and DynamoDB keep theirs through an outage). The job is frozen (SIGSTOP) only while the replay
runs, so it never sees half-restored state; during the downtime itself it runs on and meets refused connections.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config import CONFIG_DIR_VAR, load_config
from fhirpulse.stack.processes import start_moto, stop_process_group
from fhirpulse.stack.provision import provision
from spark_jobs.bronze.job import run_bronze
from spark_jobs.bronze.ledger import COMMITTED, Ledger
from spark_jobs.lake import hudi
from spark_jobs.lake.tables import resource_table
from tests.integration.helpers import generate, isolated_config, isolated_env, table_content
from tests.reliability.faults import commit_in_flight, land, pending_everywhere

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _cli(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fhirpulse.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, env=dict(os.environ),
                            **popen)


@contextlib.contextmanager
def _config_dir(folder):
    previous = os.environ.get(CONFIG_DIR_VAR)
    os.environ[CONFIG_DIR_VAR] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(CONFIG_DIR_VAR)
        else:
            os.environ[CONFIG_DIR_VAR] = previous


def _bronze_tables(spark, cfg) -> dict[str, list[tuple]]:
    glue = aws.client(cfg, "glue")
    names = [t["Name"] for t in glue.get_tables(DatabaseName=cfg.glue.database("bronze"))["TableList"]
             if t["Name"] != cfg.layer("bronze").audit_table]
    return {name: table_content(spark, cfg, "bronze", name) for name in sorted(names)}


def test_moto_killed_mid_commit_and_restarted_then_the_next_run_recovers(running_stack, lake_spark, tmp_path):
    data = generate(tmp_path / "data", "local", patients=8, seed=41)
    with isolated_env("outageref", tmp_path / "ref") as ref:  # the clean run on the shared stack
        land(ref, data, "batch-1")
        run_bronze(ref, lambda: lake_spark)
        expected = _bronze_tables(lake_spark, ref)

    recording = tmp_path / "moto.recording"
    pid, port = start_moto(tmp_path / "moto", recording=recording)
    url = f"http://127.0.0.1:{port}"
    isolated_config("outage", tmp_path / "config", aws={"endpoint_url": url})
    try:
        with _config_dir(tmp_path / "config"):
            cfg = load_config("outage")
            provision(cfg)
            land(cfg, data, "batch-1")
            # this session's S3A reaches the dedicated server for this bucket only
            lake_spark.sparkContext._jsc.hadoopConfiguration().set(f"fs.s3a.bucket.{cfg.s3.bucket}.endpoint", url)

            job = _cli("run", "bronze", "--env", "outage")
            deadline = time.monotonic() + 600
            while job.poll() is None and not commit_in_flight(cfg, "bronze"):
                assert time.monotonic() < deadline, "no bronze commit in flight"
                time.sleep(0.05)
            os.killpg(pid, signal.SIGKILL)  # the AWS endpoint dies mid-commit
            time.sleep(5)  # the job meets refused connections meanwhile
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job.pid, signal.SIGSTOP)
            pid, _ = start_moto(tmp_path / "moto", port=port, recording=recording)
            request = urllib.request.Request(f"{url}/moto-api/recorder/replay-recording", method="POST")
            urllib.request.urlopen(request, timeout=600).read()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job.pid, signal.SIGCONT)
            first_output, _ = job.communicate(timeout=900)
            assert job.returncode in (0, 1), first_output[-3000:]  # it finished or failed cleanly: no hang

            second = _cli("run", "bronze", "--env", "outage")
            second_output, _ = second.communicate(timeout=900)
            assert second.returncode == 0, second_output[-3000:]

            items = Ledger(cfg).items()
            assert len(items) == len(list(data.rglob("*.ndjson"))) and {i["status"] for i in items} == {COMMITTED}
            assert pending_everywhere(lake_spark, cfg) == {}
            assert _bronze_tables(lake_spark, cfg) == expected
    finally:
        stop_process_group(pid)


def test_an_upload_killed_half_way_is_never_half_ingested(running_stack, lake_spark, tmp_path):
    with isolated_env("multipart", tmp_path / "config") as cfg:
        s3 = aws.client(cfg, "s3")
        generator = ["generate", "-n", "250", "--seed", "5", "--out", "raw", "--env", cfg.env, "-p",
                     "s3_part_size_mb=5", "--validate-sample", "0", "--no-progress", "--workers", "1"]
        killed = _cli(*generator)
        deadline = time.monotonic() + 300
        while not any(s3.list_parts(Bucket=cfg.s3.bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts")
                      for u in s3.list_multipart_uploads(Bucket=cfg.s3.bucket).get("Uploads", [])):
            assert killed.poll() is None and time.monotonic() < deadline, "no multipart upload with a part seen"
            time.sleep(0.05)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        unfinished = {u["Key"] for u in s3.list_multipart_uploads(Bucket=cfg.s3.bucket).get("Uploads", [])}
        assert unfinished

        run_bronze(cfg, lambda: lake_spark)
        ingested = {i["object_key"] for i in Ledger(cfg).items()}
        assert not ingested & unfinished, "a half-uploaded object was ingested"
        rules = s3.get_bucket_lifecycle_configuration(Bucket=cfg.s3.bucket)["Rules"]
        assert any("AbortIncompleteMultipartUpload" in rule for rule in rules), "nothing cleans them up on AWS"

        finished = _cli(*generator)  # the same run again, to the end
        assert finished.wait(timeout=600) == 0
        audit = run_bronze(cfg, lambda: lake_spark)
        assert audit.status == "SUCCEEDED" and audit.quarantined == 0
        raw = Counter()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.s3.bucket, Prefix=cfg.s3.raw_prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(".ndjson"):
                    body = s3.get_object(Bucket=cfg.s3.bucket, Key=obj["Key"])["Body"].read()
                    raw[obj["Key"].split("/")[-3]] += sum(1 for line in body.splitlines() if line.strip())
        assert unfinished <= {i["object_key"] for i in Ledger(cfg).items()}
        for resource_type, lines in raw.items():  # every generated resource once (ids are unique per type)
            rows = hudi.read(lake_spark, cfg, resource_table(resource_type))
            assert rows.count() == rows.select("id").distinct().count() == lines, resource_type
