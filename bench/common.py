"""What the benchmark scripts share: the checkout on sys.path, a wall-clock timer, a private stack state, the
generator as a subprocess, a peak-RSS sampler over a process tree, the jobs' JSON log events, and where a
result is written (`.state/bench/`, or $FHIRPULSE_BENCH_OUT, which `bench/suite.py` sets per suite run)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_OUT_VAR = "FHIRPULSE_BENCH_OUT"
# Resources the generator emits per new patient with the default parameters (1,027,752 / 6,500 measured):
# turns a resource count asked for into --patients.
RESOURCES_PER_PATIENT = 158


def timed(fn):
    """(seconds, result) of calling `fn`."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def private_state_dir() -> str:
    """A fresh $FHIRPULSE_STATE_DIR for this script's own embedded stack (a stack someone else runs is never
    touched), with Spark's warnings in its logs/spark.log as the CLI does."""
    state = tempfile.mkdtemp(prefix="fhirpulse-bench-")
    os.environ["FHIRPULSE_STATE_DIR"] = state
    os.environ["FHIRPULSE_SPARK_LOG"] = str(Path(state) / "logs" / "spark.log")
    return state


def derived_envs(envs: dict[str, dict[str, dict]]) -> Path:
    """Write an isolated config per env (fhirpulse/stack/envs.py: every bucket, table and database its own;
    `envs[name]` = config sections merged in) and point $FHIRPULSE_CONFIG_DIR at them, for this process and
    the subprocesses it starts."""
    from fhirpulse.stack.envs import write_derived_config

    folder = Path(tempfile.mkdtemp(prefix="fhirpulse-bench-config-"))
    for env, sections in envs.items():
        write_derived_config(env, folder, **sections)
    os.environ["FHIRPULSE_CONFIG_DIR"] = str(folder)
    return folder


def patients_for(resources: int) -> int:
    return max(1, round(resources / RESOURCES_PER_PATIENT))


def parse_count(text: str) -> int:
    """'10k' -> 10000, '1M' -> 1000000, '2500' -> 2500."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return round(float(text[:-1] if scale > 1 else text) * scale)


def count_label(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10) == 0:
            return f"{n / size:g}{unit}"
    return str(n)


def generate(env: str, patients: int, seed: int, out: str = "raw", *extra: str) -> dict[str, Any]:
    """`fhirpulse generate` as a subprocess (to `out`: 'raw' = the env's bucket, or a local folder): its wall
    seconds, the peak RSS of its process tree (main process + workers), and its run summary."""
    with tempfile.TemporaryDirectory(prefix="fhirpulse-bench-summary-") as tmp:
        summary_file = Path(tmp) / "summary.json"
        cmd = [sys.executable, "-m", "fhirpulse.cli", "generate", "--env", env, "-n", str(patients),
               "--seed", str(seed), "--out", out, "--validate-sample", "0", "--no-progress",
               "--summary-file", str(summary_file), *extra]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with PeakRSS(proc.pid) as rss:
            _, err = proc.communicate()
        seconds = time.perf_counter() - started
        if proc.returncode:
            raise RuntimeError(f"generate failed ({proc.returncode}): {err[-2000:]}")
        summary = json.loads(summary_file.read_text())
    if out != "raw":
        for f in Path(out).glob("generation-summary*"):
            f.unlink()  # not FHIR; the generator writes it beside local output only
    return {"seconds": seconds, "resources": summary["resources_total"], "bytes": summary["bytes_total"],
            "files": len(summary["files"]), **rss.figures()}


def land_generated(cfg, patients: int, seed: int, subprefix: str, *extra: str) -> dict[str, Any]:
    """Generate to a local folder, then upload it under the raw prefix (`subprefix`) with upload_tree, as a
    user's `fhirpulse land` would; returns generate()'s figures."""
    from fhirpulse.stack.landing import upload_tree

    with tempfile.TemporaryDirectory(prefix="fhirpulse-bench-data-") as data:
        figures = generate(cfg.env, patients, seed, data, *extra)
        upload_tree(cfg, Path(data), subprefix)
    return figures


# --- peak memory -----------------------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_pids(root: int) -> Iterator[int]:
    """`root` and every live descendant, from /proc (Linux)."""
    todo = [root]
    while todo:
        pid = todo.pop()
        yield pid
        with suppress(OSError, ValueError):  # gone meanwhile
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())


def _tree_rss_proc(root: int) -> list[int]:
    """RSS bytes of `root` and every descendant, from /proc (Linux), when psutil is not installed."""
    sizes = []
    for pid in _tree_pids(root):
        with suppress(OSError, ValueError, IndexError):  # gone meanwhile
            sizes.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE)
    return sizes


def _tree_rss_psutil(root: int) -> list[int]:
    import psutil

    sizes = []
    try:
        procs = [psutil.Process(root)]
        procs += procs[0].children(recursive=True)
    except psutil.Error:
        return sizes
    for proc in procs:
        try:
            sizes.append(proc.memory_info().rss)
        except psutil.Error:
            continue
    return sizes


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds so far of `root` and its live descendants, from /proc (Linux): what a parent's
    wait4 cannot see when a grandchild (Spark's JVM) is never waited for."""
    total = 0.0
    for pid in _tree_pids(root):
        with suppress(OSError, ValueError, IndexError):  # gone meanwhile
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat
    return total


try:
    import psutil  # noqa: F401  (optional: not a project dependency; /proc does the same on Linux)

    tree_rss = _tree_rss_psutil
    RSS_SOURCE = "psutil"
except ImportError:
    tree_rss = _tree_rss_proc
    RSS_SOURCE = "/proc"


class PeakRSS:
    """Peak RSS of a process tree (default: this process, i.e. Python + its Spark JVM + the JVM's Python
    workers), polled every `interval` s in a background thread while the block runs. `peak_rss_mb` is the
    largest sum over the tree (shared pages count in each process, as in `ps`), `peak_rss_largest_mb` the
    largest single process (the driver JVM, for a Spark job). A JVM keeps the heap it has grown, so a later
    step in the same process starts from the earlier steps' level."""

    def __init__(self, pid: int | None = None, interval: float = 0.2):
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak = self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="peak-rss")

    def _sample(self) -> None:
        sizes = tree_rss(self.pid)
        if sizes:
            self.peak = max(self.peak, sum(sizes))
            self.largest = max(self.largest, max(sizes))

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def figures(self) -> dict[str, int]:
        return {"peak_rss_mb": round(self.peak / 2**20), "peak_rss_largest_mb": round(self.largest / 2**20)}


def measured(fn) -> tuple[float, Any, dict[str, int]]:
    """(seconds, result, peak RSS figures of this process tree) of calling `fn`."""
    with PeakRSS() as rss:
        seconds, result = timed(fn)
    return seconds, result, rss.figures()


# --- the jobs' JSON log events ------------------------------------------------------------------------------

@contextmanager
def captured_events() -> Iterator[list[dict[str, Any]]]:
    """Every JSON event the jobs log inside the block (`fhirpulse.core.logs.log_event`), parsed, in order."""
    events: list[dict[str, Any]] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with suppress(ValueError):
                events.append(json.loads(record.getMessage()))

    handler, logger = _Collect(), logging.getLogger("fhirpulse")
    logger.addHandler(handler)
    try:
        yield events
    finally:
        logger.removeHandler(handler)


def event_time(event: dict[str, Any]) -> float:
    """An event's `ts` (ISO, milliseconds) as epoch seconds."""
    return datetime.fromisoformat(event["ts"]).timestamp()


# --- results -------------------------------------------------------------------------------------------------

def _machine() -> dict[str, Any]:
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"cpus": os.cpu_count(), "mem_gib": round(mem / 2**20, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": sys.version.split()[0],
            "commit": commit}


def save_result(name: str, result: dict[str, Any]) -> Path:
    """Write `result` as JSON to $FHIRPULSE_BENCH_OUT (default <repo>/.state/bench/) with the machine and the
    command line, and print where it went (bench/suite.py collects these lines)."""
    folder = Path(os.environ.get(BENCH_OUT_VAR) or REPO / ".state" / "bench")
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = folder / f"{name}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    payload = {"bench": name, "measured_at": now.isoformat(timespec="seconds"), "machine": _machine(),
               "command": " ".join([Path(sys.executable).name, *sys.argv]), "result": result}
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"result: {path}", flush=True)
    return path


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
