"""Fault injection at every commit boundary of every layer, with real processes and SIGKILL (`make test-all`).

One environment on the shared stack: batch 1 through the whole pipeline, then batch 2 lands. For each layer in
turn, `fhirpulse run <layer>` runs in its own process and is killed at each of the layer's points in order
(spark_jobs.lake.faults.POINTS, the job killing itself there, plus `<layer>_mid_write`: this test kills the
process group while one of the layer's Hudi commits is in flight), each run picking up what the killed one
left. After every kill the commit protocol must hold: no ledger file or checkpoint ahead of a completed Hudi
commit. Then one run of the layer recovers, and:
  - every table of the layer equals, row by row, the same table of a clean run on the same input (a second
    environment; run columns aside);
  - no unfinished Hudi instant is left in any table;
  - the ledger's files are COMMITTED and point at completed commits; batch 2's files were claimed by the
    recovering run or by the killed run that committed them; each checkpoint is at its source's newest commit;
  - the recovering run's audit row names the dead run and what it rolled back; no dead run has an audit row.
The README states the number of fault points.
"""

from __future__ import annotations

import json
import signal

import pytest

from spark_jobs.bronze.ledger import COMMITTED, Ledger
from spark_jobs.gold.job import latest_silver_instants
from spark_jobs.lake import timeline
from spark_jobs.lake.audit import read_audit
from spark_jobs.lake.checkpoints import read_checkpoint
from spark_jobs.lake.faults import POINTS
from spark_jobs.lake.lifecycle import layer_lease
from spark_jobs.lake.tables import bronze_table, resource_table
from spark_jobs.silver.job import load_views
from tests.integration.helpers import isolated_env
from tests.reliability.faults import (
    LAYERS,
    kill_job,
    lake_content,
    land,
    make_batches,
    pending_everywhere,
    run_layers,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MID_WRITE = "mid_write"


def fault_sequence(layer: str) -> list[str]:
    """The layer's points in the order a run passes them, with mid-write after the last point before a write."""
    points = [p.split("_", 1)[1] for p in POINTS if p.startswith(f"{layer}_")]
    return [*points[:points.index("before_write") + 1], MID_WRITE, *points[points.index("before_write") + 1:]]


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return make_batches(tmp_path_factory.mktemp("fault-input"), "local")


@pytest.fixture(scope="module")
def clean_lake(running_stack, lake_spark, batches, tmp_path_factory):
    """The tables of a clean run: batch 1 through the pipeline, then batch 2."""
    with isolated_env("faultclean", tmp_path_factory.mktemp("config")) as cfg:
        land(cfg, batches.first, "batch-1")
        run_layers(cfg, lake_spark)
        land(cfg, batches.second, "batch-2")
        run_layers(cfg, lake_spark)
        return lake_content(lake_spark, cfg)


@pytest.fixture(scope="module")
def faulty_env(running_stack, lake_spark, batches, tmp_path_factory):
    """The environment the faults hit: batch 1 done, batch 2 landed (its keys are yielded with it)."""
    with isolated_env("faulty", tmp_path_factory.mktemp("config")) as cfg:
        land(cfg, batches.first, "batch-1")
        run_layers(cfg, lake_spark)
        yield cfg, land(cfg, batches.second, "batch-2")


@pytest.mark.parametrize("layer", LAYERS)  # in pipeline order: each layer's test needs the one before it
def test_killed_at_every_point_then_recovered_equals_a_clean_run(layer, faulty_env, clean_lake, lake_spark):
    cfg, batch_two = faulty_env
    dead_runs = []
    for point in fault_sequence(layer):
        killed = kill_job(cfg, layer, None if point == MID_WRITE else f"{layer}_{point}")
        assert killed.returncode == -signal.SIGKILL, f"{layer}_{point} did not kill the run:\n{killed.output}"
        holder = layer_lease(cfg, layer, "observer").holder()
        assert holder is not None and holder.is_dead_here(), f"{layer}_{point}: the dead run's lease is gone"
        dead_runs.append(holder.owner)
        if point == MID_WRITE:
            assert pending_everywhere(lake_spark, cfg), "the kill was meant to land mid-commit"
        _check_nothing_ahead_of_hudi(lake_spark, cfg)

    audit = run_layers(cfg, lake_spark, (layer,))[layer]

    assert audit.status in ("SUCCEEDED", "NOTHING_NEW"), audit
    assert audit.details["recovered"]["dead_run"] == dead_runs[-1]
    assert pending_everywhere(lake_spark, cfg) == {}
    content = lake_content(lake_spark, cfg)
    mine = {key: rows for key, rows in content.items() if key[0] == layer}
    assert mine == {key: rows for key, rows in clean_lake.items() if key[0] == layer}
    stored = {r.run_id: r for r in read_audit(lake_spark, cfg, layer).collect()}
    assert not set(dead_runs) & set(stored), "a killed run wrote an audit row"
    assert json.loads(stored[audit.run_id].details)["recovered"]["dead_run"] == dead_runs[-1]
    _check_ledger_and_checkpoints(lake_spark, cfg, layer, batch_two, {audit.run_id, *dead_runs})


def _check_nothing_ahead_of_hudi(spark, cfg) -> None:
    """The commit protocol: a file is COMMITTED, or a checkpoint moved, only after the Hudi commits it names."""
    for item in Ledger(cfg).items():
        if item["status"] == COMMITTED:
            for table, instant in item["hudi_commits"].items():
                assert instant in timeline.completed_commits(cfg, bronze_table(table)), (item, table)
    for view in load_views(cfg):
        until = read_checkpoint(cfg, "silver", view.name).get("bronze")
        assert until is None or until in timeline.completed_commits(cfg, resource_table(view.resource))
    silver_seen = read_checkpoint(cfg, "gold", cfg.gold.stays_table).get("silver", {})
    newest = latest_silver_instants(cfg)
    assert all(instant <= newest[name] for name, instant in silver_seen.items()), (silver_seen, newest)


def _check_ledger_and_checkpoints(spark, cfg, layer: str, batch_two: list[str], runs: set[str]) -> None:
    _check_nothing_ahead_of_hudi(spark, cfg)
    items = Ledger(cfg).items()
    assert {i["status"] for i in items} == {COMMITTED}
    assert {i["run_id"] for i in items if i["object_key"] in batch_two} <= runs or layer != "bronze"
    if layer == "silver":
        for view in load_views(cfg):
            newest = timeline.completed_commits(cfg, resource_table(view.resource))[-1]
            assert read_checkpoint(cfg, "silver", view.name) == {"bronze": newest}, view.name
    if layer == "gold":
        assert read_checkpoint(cfg, "gold", cfg.gold.stays_table)["silver"] == latest_silver_instants(cfg)
