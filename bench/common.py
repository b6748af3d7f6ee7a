"""What the benchmark scripts share: the checkout on sys.path and a wall-clock timer."""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def timed(fn):
    """(seconds, result) of calling `fn`."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
