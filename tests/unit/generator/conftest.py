"""Populations shared by the generator tests (generated once per session into temporary folders)."""

from __future__ import annotations

import pytest

from tests.unit.generator.testkit import run_batch

# A short window (2 months) so that many stays are still running at batch 1's as-of date and an update
# batch has in-progress encounters to finish.
SHORT_WINDOW = {"start_date": "2024-11-01", "end_date": "2024-12-31"}


@pytest.fixture(scope="session")
def two_batches(tmp_path_factory):
    """Batch 1 and batch 2 (new patients + half of batch 1's patients updated), in separate folders."""
    root = tmp_path_factory.mktemp("two-batches")
    first = run_batch(root / "batch1", patients=120, **SHORT_WINDOW)
    second = run_batch(root / "batch2", batch=2, patients=120, update_fraction=0.5, **SHORT_WINDOW)
    return {"batch1": root / "batch1", "batch2": root / "batch2", "results": (first, second)}


@pytest.fixture(scope="session")
def cohort(tmp_path_factory):
    """A few thousand patients without observations: enough admissions to measure rates and coherence."""
    out = tmp_path_factory.mktemp("cohort")
    result = run_batch(out, patients=4000, vitals_per_day=0, labs_per_day=0, chunk_patients=500)
    return out, result
