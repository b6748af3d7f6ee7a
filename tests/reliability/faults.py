"""What the fault-injection tests share: the input, a clean run's tables, a job killed for real, and the checks
that a recovery left the lake as a clean run would have.

Input: two generated batches (the second updates the first) plus hand-made resources that make every write
path run, including the deletes: a Condition re-sent with fewer codings (silver deletes a stale row), an
inpatient Encounter re-sent as ambulatory (gold deletes its stay), a Procedure (a new bronze table: a first
load), a line that is not JSON (quarantine).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core import aws
from fhirpulse.core.config import Config
from fhirpulse.stack.landing import upload_tree
from spark_jobs.bronze.job import run_bronze
from spark_jobs.gold.job import run_gold
from spark_jobs.lake import timeline
from spark_jobs.lake.audit import AuditRecord
from spark_jobs.lake.faults import ENV_VAR
from spark_jobs.silver.job import run_silver
from tests.integration.helpers import generate, lake_tables, table_content

JOBS: dict[str, Callable[..., AuditRecord]] = {"bronze": run_bronze, "silver": run_silver, "gold": run_gold}
LAYERS = tuple(JOBS)


@dataclass(frozen=True)
class Batches:
    first: Path
    second: Path


def _hand_made(folder: Path, patient: str, batch: int) -> None:
    codings = [{"system": "http://snomed.info/sct", "code": code} for code in ("38341003", "44054006")]
    condition = {"resourceType": "Condition", "id": "fault-cond", "subject": {"reference": f"Patient/{patient}"},
                 "meta": {"lastUpdated": f"2024-0{batch}-02T00:00:00Z"},
                 "code": {"coding": codings if batch == 1 else codings[:1]}, "onsetDateTime": "2023-05-01"}
    encounter = {"resourceType": "Encounter", "id": "fault-enc", "status": "finished",
                 "meta": {"lastUpdated": f"2024-0{batch}-02T00:00:00Z"},
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                           "code": "IMP" if batch == 1 else "AMB"},
                 "subject": {"reference": f"Patient/{patient}"},
                 "period": {"start": "2023-06-01T08:00:00-05:00", "end": "2023-06-05T10:00:00-05:00"}}
    # batch 2 also brings a resource type bronze has not seen (a first load: bulk insert) and a bad line
    procedure = {"resourceType": "Procedure", "id": "fault-proc", "status": "completed",
                 "subject": {"reference": f"Patient/{patient}"}, "meta": {"lastUpdated": "2024-02-02T00:00:00Z"}}
    extra = [json.dumps(procedure), "{not json"] if batch == 2 else []
    lines = [json.dumps(condition), json.dumps(encounter), *extra]
    (folder / "hand-made.ndjson").write_text("\n".join(lines) + "\n")


def make_batches(root: Path, env: str) -> Batches:
    first = generate(root / "batch-1", env, patients=8, seed=31, batch=1)
    second = generate(root / "batch-2", env, patients=3, seed=31, batch=2)
    patient = json.loads(next((first / "Patient").rglob("*.ndjson")).open().readline())["id"]
    _hand_made(first, patient, 1)
    _hand_made(second, patient, 2)
    return Batches(first, second)


def run_layers(cfg: Config, spark, layers: tuple[str, ...] = LAYERS) -> dict[str, AuditRecord]:
    return {layer: JOBS[layer](cfg, lambda: spark) for layer in layers}


def land(cfg: Config, folder: Path, batch: str) -> list[str]:
    return upload_tree(cfg, folder, batch)


def lake_content(spark, cfg: Config) -> dict[tuple[str, str], list[tuple]]:
    """Every data table's rows (run columns aside), by (layer, table)."""
    return {(layer, name): table_content(spark, cfg, layer, name) for layer, name in lake_tables(cfg)}


def pending_everywhere(spark, cfg: Config) -> dict[str, list[str]]:
    """Unfinished Hudi instants of every table of every layer, by table path (empty when all is clean)."""
    return {path: pending for layer in LAYERS for path in timeline.layer_table_paths(spark, cfg, layer)
            if (pending := timeline.pending_instants(spark, path))}


def commit_in_flight(cfg: Config, layer: str) -> bool:
    """A Hudi commit of the layer is in flight: some table has `<t>.inflight` without `<t>.commit`."""
    s3 = aws.client(cfg, "s3")
    timelines: dict[str, set[str]] = defaultdict(set)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.s3.bucket,
                                                             Prefix=f"{cfg.s3.lake_prefix}/{layer}/"):
        for obj in page.get("Contents", []):
            table, sep, name = obj["Key"].rpartition("/.hoodie/")
            if sep and "/" not in name:
                timelines[table].add(name)
    return any(name.count(".") == 1 and name.endswith(".inflight") and f"{name[:-9]}.commit" not in names
               for names in timelines.values() for name in names)


@dataclass
class Killed:
    returncode: int
    output: str
    seconds: float


def kill_job(cfg: Config, layer: str, point: str | None, timeout: float = 600) -> Killed:
    """`fhirpulse run <layer>` in its own process group, killed with SIGKILL: at the crash point `point`
    (the job kills itself there), or, when `point` is None, by this process as soon as one of the layer's
    Hudi commits is in flight (mid-write). Every process of the group (the driver's JVM too) is gone after."""
    env = dict(os.environ) | ({ENV_VAR: point} if point else {})
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "fhirpulse.cli", "run", layer, "--env", cfg.env],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        if point is None:
            while proc.poll() is None and not commit_in_flight(cfg, layer):
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"{layer}: no commit in flight within {timeout:.0f} s")
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (the JVM)
    if proc.returncode != -signal.SIGKILL:  # it ended by itself: say why, from its own log
        output += _log_errors(output)
    return Killed(proc.returncode, output[-6000:], time.monotonic() - started)


def _log_errors(output: str) -> str:
    """The error events of the run log the CLI names on its last line ("log: <path>"), if any."""
    paths = [line[len("log: "):].strip() for line in output.splitlines() if line.startswith("log: ")]
    if not paths or not Path(paths[-1]).exists():
        return ""
    events = [line for line in Path(paths[-1]).read_text().splitlines() if '"error"' in line or "Traceback" in line]
    return "\nerrors in the run log:\n" + "\n".join(events)[-4000:]
