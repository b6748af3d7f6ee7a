"""The workflow end to end on the real stack: uploads trigger one run per burst, the KPIs land in Trino
and equal plain Python over the raw files; a failed job alerts through EventBridge -> SNS within 10 s and
stops the workflow; a second runner is refused; a runner killed mid-run leaves a lock that expires, and the
next run recovers to the same KPIs.

Its own environment on the shared moto server and Trino ("wftest": bucket, tables, queues, workflow),
with a short lease and debounce so that the waits stay short.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fhirpulse.core import aws
from fhirpulse.core.config.pipeline import load_pipeline
from fhirpulse.reporting.engine import engine_for
from fhirpulse.reporting.kpis import query_kpis
from fhirpulse.stack.landing import upload_tree
from fhirpulse.workflow.lock import WorkflowLock
from fhirpulse.workflow.metrics import read_job_metrics
from fhirpulse.workflow.runner import Runner
from fhirpulse.workflow.runs import RunStore
from fhirpulse.workflow.watch import watch
from tests.integration.gold import kpi_reference as ref
from tests.integration.helpers import assert_equal_kpis, generate, isolated_env
from tests.scenarios.pipeline import uploads_reach_the_kpis

pytestmark = pytest.mark.integration
ENV, PATIENTS, SEED, BURST = "wftest", 30, 21, 50
LEASE, DEBOUNCE = 8, 2.0


@pytest.fixture(scope="module")
def env(running_stack, tmp_path_factory):
    with isolated_env(ENV, tmp_path_factory.mktemp("config"),
                      workflow={"lease_seconds": LEASE, "debounce_seconds": DEBOUNCE}) as cfg:
        yield cfg


@pytest.fixture(scope="module")
def uploaded() -> list[Path]:
    """Every folder uploaded so far, in order: the reference KPIs are computed over all of them."""
    return []


def _runner(cfg, spark) -> Runner:
    return Runner(cfg, load_pipeline(), session=lambda: spark)


def _split_into_objects(folder: Path, count: int) -> Path:
    """The generated NDJSON files cut into `count` smaller files (a burst of uploads), lines unchanged."""
    lines = [(path.name, line) for path in sorted(folder.rglob("*.ndjson"))
             for line in path.read_text().splitlines() if line]
    out = folder.parent / f"{folder.name}-split"
    out.mkdir()
    for i in range(count):
        chunk = lines[i::count]
        (out / f"part-{i:03d}.ndjson").write_text("\n".join(line for _, line in chunk) + "\n")
    return out


def _trino_kpis(cfg) -> dict:
    return query_kpis(cfg, engine_for(cfg))[0]


def _expected(folders: list[Path]) -> dict:
    return ref.summary(ref.stays(ref.latest_resources(folders)))


def test_a_burst_of_uploads_starts_exactly_one_run_and_the_kpis_reach_trino(
        env, lake_spark, running_stack, uploaded, tmp_path_factory):
    cfg = env
    burst = _split_into_objects(generate(tmp_path_factory.mktemp("gen") / "batch-1", ENV, PATIENTS, SEED), BURST)
    runner = _runner(cfg, lake_spark)
    started: list[str] = []

    def start(keys: list[str]) -> str:
        started.append(f"{len(keys)} keys")
        return runner.run(trigger=f"s3: {len(keys)} uploads").run_id

    def upload_slowly() -> None:  # one object at a time, as a client uploading a folder does
        s3 = aws.client(cfg, "s3")
        for path in sorted(burst.iterdir()):
            s3.upload_file(str(path), cfg.s3.bucket, f"{cfg.s3.raw_prefix}/{burst.name}/{path.name}")
            time.sleep(0.02)

    def upload_and_process() -> str:
        uploader = threading.Thread(target=upload_slowly)
        uploader.start()
        runs = watch(cfg, start, max_runs=1, idle_seconds=60)
        uploader.join()
        assert started == [f"{BURST} keys"] and len(runs) == 1
        # the queue is empty afterwards: watching on finds no second burst
        assert watch(cfg, start, idle_seconds=DEBOUNCE + 3) == []
        return runs[0]

    uploaded.append(burst)
    run = uploads_reach_the_kpis(cfg, upload_and_process, all_uploads=uploaded)
    assert run.trigger == f"s3: {BURST} uploads"
    # per-job metrics where CloudWatch Logs would keep them, in Embedded Metric Format
    metrics = read_job_metrics(cfg, run.run_id)
    assert [(m["Job"], m["state"]) for m in metrics] == [("bronze", "SUCCEEDED"), ("silver", "SUCCEEDED"),
                                                         ("gold", "SUCCEEDED")]
    assert metrics[0]["records_in"] == sum(1 for f in burst.iterdir() for line in f.read_text().splitlines() if line)
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FHIRPulse"
    assert Path(run.log_file).read_text().count('"event": "workflow.job_state"') == 6


def _receive_alerts(cfg, deadline: float) -> list[dict]:
    sqs = aws.client(cfg, "sqs")
    url = sqs.get_queue_url(QueueName=cfg.alerts.test_queue)["QueueUrl"]
    found = []
    while time.monotonic() < deadline and not found:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_failed_job_alerts_the_topic_subscriber_within_10_s_and_stops_the_workflow(
        env, lake_spark, tmp_path_factory):
    broken = tmp_path_factory.mktemp("broken-views")
    (broken / "patient.json").write_text(json.dumps({
        "resourceType": "ViewDefinition", "name": "patient", "resource": "Patient",
        "select": [{"column": [{"name": "id", "path": "getResourceKey("}]}]}))
    cfg = env.model_copy(update={"silver": env.silver.model_copy(update={"views_dir": str(broken)})})
    run = _runner(cfg, lake_spark).run(trigger="test: broken view")
    failed_at = time.monotonic()
    assert run.state == "FAILED"
    assert [(j.name, j.state) for j in run.jobs] == [("bronze", "SUCCEEDED"), ("silver", "FAILED"),
                                                     ("gold", "NOT_RUN")]
    silver = run.job("silver")
    alerts = _receive_alerts(cfg, failed_at + 10)
    assert len(alerts) == 1, alerts
    subject, text = alerts[0]["Subject"], alerts[0]["Message"]
    assert subject == "FHIRPulse: Glue job fhirpulse-wftest-silver FAILED"
    assert f"Job run: {silver.job_run_id}" in text
    assert "ViewDefinitionError: silver view 'patient': expected a term" in text


def _cli(*args: str, env_vars: dict | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fhirpulse.cli", *args, "--env", ENV],
                            env=os.environ | (env_vars or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kwargs)


def test_a_second_runner_is_refused_and_a_killed_runner_s_lock_is_taken_over(
        env, lake_spark, uploaded, tmp_path_factory):
    cfg = env
    batch2 = generate(tmp_path_factory.mktemp("gen") / "batch-2", ENV, PATIENTS, SEED, batch=2)
    upload_tree(cfg, batch2, batch2.name)
    uploaded.append(batch2)
    lock = WorkflowLock(cfg, owner="observer")

    # A: a runner that dies by SIGKILL inside bronze, once it has claimed the new files in the ledger
    doomed = _cli("run", "pipeline", env_vars={"FHIRPULSE_CRASH_AT": "bronze_after_claim"})
    deadline = time.monotonic() + 60
    while (holder := lock.holder()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert holder is not None and holder.pid == doomed.pid

    # B, while A holds the lock: refused at once with one clear line and exit code 3
    refused = _cli("run", "pipeline", "--wait", "0")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 3, err
    assert f"workflow fhirpulse-wftest-pipeline is already running: run {holder.owner}" in err
    assert "Traceback" not in err

    doomed.communicate(timeout=240)
    assert doomed.returncode == -signal.SIGKILL
    assert lock.holder().owner == holder.owner  # nobody released it

    # C (in this process, on its warm Spark) takes the dead runner's lock over (same machine: the pid is
    # gone, no need to wait for the lease), stops A's orphaned run and completes the workflow
    successor = _runner(cfg, lake_spark).run(trigger="test: after a crash", wait_seconds=120)
    assert successor.state == "SUCCEEDED", successor.summary()
    stopped = _receive_alerts(cfg, time.monotonic() + 10)
    assert [a["Subject"] for a in stopped] == ["FHIRPulse: Glue job fhirpulse-wftest-bronze STOPPED"]
    runs = {r.run_id: r for r in RunStore(cfg).recent(10)}
    orphan = runs[holder.owner]
    assert orphan.state == "STOPPED"
    assert orphan.job("bronze").state == "STOPPED" and "stopped before the run ended" in orphan.job("bronze").message
    newest = RunStore(cfg).recent(1)[0]
    assert newest.run_id == successor.run_id
    assert_equal_kpis(_trino_kpis(cfg), _expected(uploaded))
    assert lock.holder() is None

    status = subprocess.run([sys.executable, "-m", "fhirpulse.cli", "status", "--format", "json", "--env", ENV],
                            check=True, capture_output=True, text=True)
    listed = json.loads(status.stdout)
    assert [r["run_id"] for r in listed[:2]] == [newest.run_id, holder.owner]
    assert set(listed[0]) == {"run_id", "state", "trigger", "started_at", "ended_at", "jobs"}
    assert [(j["name"], j["state"]) for j in listed[0]["jobs"]] == [
        ("bronze", "SUCCEEDED"), ("silver", "SUCCEEDED"), ("gold", "SUCCEEDED")]
    assert all(isinstance(j["seconds"], float) for j in listed[0]["jobs"])


def test_a_job_started_by_hand_holds_the_same_lock_and_a_second_one_exits_with_one_line(env, tmp_path):
    lock = WorkflowLock(env, owner="observer")
    # A file to ingest, so that the first run works for a while (with nothing new it needs no Spark and may
    # be done before the second starts).
    (tmp_path / "one.ndjson").write_text('{"resourceType":"Patient","id":"by-hand","gender":"unknown"}\n')
    upload_tree(env, tmp_path / "one.ndjson", "by-hand")
    first = _cli("run", "bronze")
    deadline = time.monotonic() + 60
    while (holder := lock.holder()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert holder is not None and holder.pid == first.pid and holder.owner.startswith("bronze_")
    second = _cli("run", "bronze", "--wait", "0")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 3
    assert err.strip().startswith(f"workflow fhirpulse-wftest-pipeline is already running: run {holder.owner}")
    assert "Traceback" not in err and "ConditionalCheckFailed" not in err
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert lock.holder() is None
