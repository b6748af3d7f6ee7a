"""Named crash points for recovery tests: the process kills itself (SIGKILL) where a real crash could happen.

Set FHIRPULSE_CRASH_AT=<point> to arm one; unset, each call is a no-op. FHIRPULSE_FAIL_AT=<point> raises
InjectedFault there instead: an ordinary error, which the run records as FAILED (the retry path). The reliability suite
(tests/reliability/test_faults.py) kills a real job run at every point below, plus from outside: mid-write
(while a Hudi commit is in flight), the AWS endpoint going away, and an aborted upload.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "FHIRPULSE_CRASH_AT"
FAIL_VAR = "FHIRPULSE_FAIL_AT"

# Every commit boundary of every layer, in the order a run passes them.
POINTS: dict[str, str] = {
    "bronze_after_claim": "files claimed PENDING in the ledger, nothing read yet",
    "bronze_before_write": "records read and classified, no table written",
    "bronze_after_first_table": "one resource table committed, the others not",
    "bronze_after_commit": "every table committed, no file marked COMMITTED in the ledger",
    "bronze_after_first_file": "mid-way through the per-file ledger updates",
    "bronze_before_audit": "ledger complete, no audit row",
    "silver_before_write": "a view's rows computed, its table not written",
    "silver_after_upsert": "a table's upsert committed, its stale rows not deleted",
    "silver_after_commit": "a view's table committed, its checkpoint not moved",
    "silver_after_first_view": "one view complete with its checkpoint, the others not yet (or mid-write)",
    "silver_before_audit": "every view and checkpoint done, no audit row",
    "gold_before_write": "stays computed, nothing written",
    "gold_after_upsert": "a table's upsert committed, its stale rows not deleted",
    "gold_after_first_table": "one of the stays and KPI tables written, the other not yet (or mid-write)",
    "gold_after_commit": "both tables written, the checkpoint not moved",
    "gold_before_audit": "checkpoint moved, no audit row",
}


def crash_point(name: str) -> None:
    if name not in POINTS:  # a typo would silently never fire
        raise ValueError(f"unknown crash point {name!r}; add it to spark_jobs.lake.faults.POINTS")
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_VAR) == name:
        raise InjectedFault(f"injected failure at {name} ({FAIL_VAR})")


class InjectedFault(RuntimeError):
    """A failure armed by FHIRPULSE_FAIL_AT."""
