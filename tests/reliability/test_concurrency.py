"""Concurrency and ordering: two job runs at once, a failed run retried, versions arriving out of order.

Two runs of one layer never write its Hudi tables together (one writer per table): the second waits on the
layer's lease (spark_jobs.lake.lifecycle) or, with no time to wait, fails with one line naming the holder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from pyspark.sql import functions as F

from spark_jobs.bronze.job import run_bronze
from spark_jobs.bronze.ledger import COMMITTED, FAILED, Ledger
from spark_jobs.lake import hudi
from spark_jobs.lake.faults import FAIL_VAR
from spark_jobs.lake.lifecycle import JobError, layer_lease
from spark_jobs.lake.tables import resource_table, silver_table
from spark_jobs.silver.job import run_silver
from tests.integration.helpers import isolated_env
from tests.reliability.faults import land

pytestmark = pytest.mark.integration


def _job_process(env: str, layer: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.run_job", layer, "--env", env, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _write(folder, name: str, *resources: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in resources))


def _patients(prefix: str, n: int, updated: str = "2024-03-01T00:00:00Z") -> list[dict]:
    return [{"resourceType": "Patient", "id": f"{prefix}-{i}", "gender": "female", "meta": {"lastUpdated": updated}}
            for i in range(n)]


@pytest.mark.slow
def test_two_bronze_runs_at_once_take_turns_and_a_third_that_cannot_wait_says_so(running_stack, lake_spark,
                                                                              tmp_path):
    with isolated_env("concurrent", tmp_path / "config") as cfg:
        for part in range(4):
            _write(tmp_path / "data", f"part-{part}.ndjson", *_patients(f"cc{part}", 50))
        keys = land(cfg, tmp_path / "data", "together")

        first, second = _job_process(cfg.env, "bronze"), _job_process(cfg.env, "bronze")
        lease = layer_lease(cfg, "bronze", "observer")
        deadline = time.monotonic() + 180
        while lease.holder() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        impatient = _job_process(cfg.env, "bronze", "--wait", "0")
        out_impatient, err_impatient = impatient.communicate(timeout=600)
        results = [p.communicate(timeout=900) for p in (first, second)]

        assert impatient.returncode == 1 and not out_impatient
        line, = err_impatient.strip().splitlines()[-1:]
        assert "did not start: the bronze job is already running: run bronze-" in line, err_impatient[-2000:]
        assert "Traceback" not in err_impatient
        assert [p.returncode for p in (first, second)] == [0, 0], [err[-2000:] for _, err in results]
        audits = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
        assert sorted(a["status"] for a in audits) == ["NOTHING_NEW", "SUCCEEDED"]
        worker = next(a["run_id"] for a in audits if a["status"] == "SUCCEEDED")
        items = [i for i in Ledger(cfg).items() if i["object_key"] in keys]
        assert len(items) == 4 and {(i["status"], i["run_id"]) for i in items} == {(COMMITTED, worker)}
        rows = hudi.read(lake_spark, cfg, resource_table("Patient"))
        assert rows.count() == rows.select("id").distinct().count() == 200


def test_a_failed_run_is_retried_by_the_next_and_nothing_is_lost(running_stack, lake_spark, tmp_path,
                                                                 monkeypatch):
    with isolated_env("retry", tmp_path / "config") as cfg:
        _write(tmp_path / "data", "patients.ndjson", *_patients("rt", 20))
        key, = land(cfg, tmp_path / "data", "retry")

        monkeypatch.setenv(FAIL_VAR, "bronze_after_commit")  # tables written, then the run fails
        with pytest.raises(JobError, match="injected failure at bronze_after_commit"):
            run_bronze(cfg, lambda: lake_spark)
        failed, = Ledger(cfg).items()
        assert failed["status"] == FAILED and "injected failure" in failed["error"]

        monkeypatch.delenv(FAIL_VAR)
        retried = run_bronze(cfg, lambda: lake_spark)
        assert retried.status == "SUCCEEDED" and retried.files == 1
        item, = Ledger(cfg).items()
        assert (item["object_key"], item["status"], item["run_id"], item["records"]) == (key, COMMITTED,
                                                                                          retried.run_id, 20)
        assert "error" not in item
        rows = hudi.read(lake_spark, cfg, resource_table("Patient"))
        assert rows.count() == rows.select("id").distinct().count() == 20


def test_an_older_version_arriving_later_wins_neither_in_bronze_nor_in_silver(running_stack, lake_spark, tmp_path):
    newer = {"resourceType": "Patient", "id": "ooo-1", "gender": "female", "birthDate": "1970-01-01",
             "meta": {"lastUpdated": "2024-05-01T00:00:00Z"}}
    older = newer | {"gender": "male", "birthDate": "1960-01-01", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}}
    with isolated_env("outoforder", tmp_path / "config") as cfg:
        _write(tmp_path / "newer", "p.ndjson", newer)
        land(cfg, tmp_path / "newer", "newer")
        run_bronze(cfg, lambda: lake_spark)
        run_silver(cfg, lambda: lake_spark)

        _write(tmp_path / "older", "p.ndjson", older)
        land(cfg, tmp_path / "older", "older")
        assert run_bronze(cfg, lambda: lake_spark).status == "SUCCEEDED"
        # this silver run in a process of its own, as on Glue: its session starts inside the run
        silver_process = _job_process(cfg.env, "silver")
        out, err = silver_process.communicate(timeout=600)
        assert silver_process.returncode == 0, err[-3000:]
        # the audit record is the last line (Hudi's JVM may print a warning to stdout before it)
        assert json.loads(out.splitlines()[-1])["status"] == "SUCCEEDED"

        bronze, = hudi.read(lake_spark, cfg, resource_table("Patient")).collect()
        assert json.loads(bronze.raw_json)["gender"] == "female"
        silver, = hudi.read(lake_spark, cfg, silver_table("patient")).where(F.col("id") == "ooo-1").collect()
        assert (silver.gender, str(silver.birth_date)) == ("female", "1970-01-01")
