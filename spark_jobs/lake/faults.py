"""Named crash points for recovery tests: the process kills itself (SIGKILL) where a real crash could happen.

Set FHIRPULSE_CRASH_AT=<point> to arm one; unset, each call is a no-op. Tests use it to kill a real job run
between its Hudi commits and its ledger update, not to mock either.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "FHIRPULSE_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
