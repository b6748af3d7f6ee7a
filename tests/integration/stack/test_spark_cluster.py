"""The jobs on a real Spark standalone cluster (a master and two 1-core workers the stack starts from the
installed pyspark): bronze -> silver -> gold give exactly the tables and KPIs of `local[2]` on the same input.

The cluster run is `fhirpulse run pipeline` in its own process (one JVM per process; this one already has
a local session), with its own environment; the local run uses this process's session, in parallel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fhirpulse import stack
from fhirpulse.core.config import CONFIG_DIR_VAR, load_config
from fhirpulse.stack.landing import upload_tree
from fhirpulse.stack.processes import _http_ok
from fhirpulse.stack.provision import provision
from spark_jobs.bronze.job import run_bronze
from spark_jobs.gold.job import run_gold
from spark_jobs.silver.job import run_silver
from tests.integration.helpers import (
    assert_equal_kpis,
    generate,
    isolated_config,
    isolated_env,
    lake_tables,
    table_content,
)

pytestmark = pytest.mark.integration
WORKERS = 2


def _cli(config_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fhirpulse.cli", *args], capture_output=True, text=True,
                          env=os.environ | {CONFIG_DIR_VAR: str(config_dir)})


@pytest.fixture(scope="module")
def two_runs(running_stack, lake_spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster-config")
    isolated_config("onlocal", folder)
    state = stack.up(load_config("local"), spark_workers=WORKERS)  # the running stack, plus a cluster
    try:
        with isolated_env("oncluster", folder, spark={"master": "stack", "worker_cores": 1}) as on_cluster:
            assert on_cluster.spark.master == state.spark_master_url
            assert state.spark_master_url.startswith("spark://127.0.0.1:")
            on_local = stack.resolve_stack_values(load_config("onlocal"))
            provision(on_local)
            raw = generate(tmp_path_factory.mktemp("cluster-raw"), "onlocal", patients=20, seed=11)
            for cfg in (on_cluster, on_local):
                upload_tree(cfg, raw, "gen")
            cluster_run = subprocess.Popen([sys.executable, "-m", "fhirpulse.cli", "run", "pipeline", "--env",
                                            "oncluster"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True)
            session = lambda: lake_spark  # noqa: E731
            local = [run_bronze(on_local, session), run_silver(on_local, session), run_gold(on_local, session)]
            output, _ = cluster_run.communicate(timeout=900)
            apps = json.loads(_http_ok(f"{state.spark_ui_url}/json/") or b"{}")
    finally:
        stack.stop_spark_cluster()
    assert cluster_run.returncode == 0, output[-4000:]
    assert [a.status for a in local] == ["SUCCEEDED"] * 3
    return on_cluster, on_local, apps, folder


def test_the_stack_starts_and_stops_a_cluster_on_loopback(two_runs):
    _, _, apps, _ = two_runs
    assert apps["aliveworkers"] == WORKERS and all(w["host"] == "127.0.0.1" for w in apps["workers"])
    # the pipeline ran as an application of the cluster, on both workers' cores
    assert [(a["name"], a["cores"]) for a in apps["completedapps"] + apps["activeapps"]] == [
        ("fhirpulse-oncluster-pipeline", WORKERS)]
    after = stack.status(load_config("local"))
    assert after["running"] and after["spark_master_url"] is None
    assert not any(name.startswith("spark-") for name in after["processes"])


def test_the_cluster_gives_exactly_the_tables_of_local(two_runs, lake_spark):
    on_cluster, on_local, _, _ = two_runs
    tables = lake_tables(on_local)
    assert lake_tables(on_cluster) == tables
    assert {layer for layer, _ in tables} == {"bronze", "silver", "gold"}
    for layer, name in tables:
        assert table_content(lake_spark, on_cluster, layer, name) == table_content(lake_spark, on_local, layer,
                                                                                   name), f"{layer}.{name}"


def test_the_cluster_gives_exactly_the_kpis_of_local(two_runs):
    kpis, folder = {}, two_runs[3]
    for env in ("oncluster", "onlocal"):
        done = _cli(folder, "kpis", "--env", env, "--format", "json")
        assert done.returncode == 0, done.stderr
        kpis[env] = json.loads(done.stdout)
    assert kpis["onlocal"]["stays"] > 10
    assert_equal_kpis(kpis["oncluster"], kpis["onlocal"])
