"""The workflow runner's estimate of a run's input, which picks the session's JIT (spark.jit auto)."""

from __future__ import annotations

from fhirpulse.core.config import load_config
from fhirpulse.workflow.runner import run_input_bytes


def test_a_run_reads_the_raw_bytes_still_to_ingest_and_on_full_the_bronze_lake(monkeypatch):
    import spark_jobs.bronze.job as bronze_job
    import spark_jobs.lake.timeline as timeline

    monkeypatch.setattr(bronze_job, "new_raw_bytes", lambda cfg: 1_000)
    monkeypatch.setattr(timeline, "layer_bytes", lambda cfg, layer: {"bronze": 50_000}[layer])
    cfg = load_config("local")
    assert run_input_bytes(cfg, full=False) == 1_000
    assert run_input_bytes(cfg, full=True) == 51_000


def test_an_estimate_that_fails_leaves_the_jvm_s_default(monkeypatch):
    import spark_jobs.bronze.job as bronze_job

    def unreachable(cfg):
        raise ConnectionError("no endpoint")

    monkeypatch.setattr(bronze_job, "new_raw_bytes", unreachable)
    assert run_input_bytes(load_config("local"), full=False) is None
