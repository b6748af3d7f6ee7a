"""Generator throughput and memory: resources/s and peak RSS for N patients to local NDJSON.

Each measurement runs in a fresh child process (so peak RSS is that run's own), writing to a temporary folder
that is deleted afterwards. Reported per run: wall seconds, resources/s (wall), CPU seconds of the main process
and of the workers, peak RSS of the main process and of the largest worker, bytes written, and the machine's
load average (other processes on a shared machine slow the wall-clock figures down).

    .venv/bin/python bench/generator_bench.py                       # 10k patients, workers 1 and 2; RSS at 2k
    .venv/bin/python bench/generator_bench.py --patients 10000 --rss-patients 2000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, save_result  # noqa: E402  (bench/ is the script's folder, so on sys.path)


def _child(patients: int, workers: int, validate_sample: float, out: Path) -> dict:
    sys.path.insert(0, str(REPO))
    from fhirpulse.core.config import load_config
    from generator.runner import JobSpec, generate_batch
    from generator.writers.sinks import LocalDestination
    from generator.writers.targets import Target

    params = load_config("local").generator.model_copy(
        update={"patients": patients, "validate_sample": validate_sample, "workers": workers})
    job = JobSpec(config=params, batch=1)
    cpu_started = time.process_time()
    result = generate_batch(job, Target(root=out), LocalDestination(out), workers=workers)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    resources = sum(result.resources.values())
    return {
        "patients": patients, "workers": result.workers, "validate_sample": validate_sample,
        "resources": resources, "bytes": sum(f["bytes"] for f in result.files),
        "seconds": round(result.seconds, 2), "resources_per_second": round(resources / result.seconds),
        "main_cpu_seconds": round(time.process_time() - cpu_started, 2),
        "worker_cpu_seconds": round(children.ru_utime + children.ru_stime, 2),
        "peak_rss_main_mb": round(own.ru_maxrss / 1024), "peak_rss_worker_mb": round(children.ru_maxrss / 1024),
    }


def _measure(patients: int, workers: int, validate_sample: float, scratch: Path) -> dict:
    out = Path(tempfile.mkdtemp(prefix="generator-bench-", dir=scratch))
    load_before = os.getloadavg()[0]
    try:
        completed = subprocess.run(
            [sys.executable, __file__, "--child", "--patients", str(patients), "--workers", str(workers),
             "--validate-sample", str(validate_sample), "--out", str(out)],
            check=True, capture_output=True, text=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--rss-patients", type=int, default=2_000, help="smaller run to compare peak RSS with")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--validate-sample", type=float, default=0.0,
                        help="share validated with fhir.resources R4B during the run (default 0: pure speed)")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.patients, args.workers[0], args.validate_sample, args.out)))
        return

    runs = []
    for workers in args.workers:
        for patients in (args.rss_patients, args.patients):
            figures = _measure(patients, workers, args.validate_sample, args.scratch)
            runs.append(figures)
            print(json.dumps(figures), flush=True)
    print()
    print(f"{'patients':>9} {'workers':>7} {'resources':>10} {'MB':>7} {'s':>7} {'res/s':>9} {'cpu main':>8} "
          f"{'cpu wrk':>8} {'RSS main':>8} {'RSS wrk':>8} {'load':>11}")
    for r in runs:
        print(f"{r['patients']:>9} {r['workers']:>7} {r['resources']:>10} {r['bytes'] / 1e6:>7.0f} {r['seconds']:>7} "
              f"{r['resources_per_second']:>9} {r['main_cpu_seconds']:>8} {r['worker_cpu_seconds']:>8} "
              f"{r['peak_rss_main_mb']:>7}M {r['peak_rss_worker_mb']:>7}M {str(r['load_average_1min']):>11}")
    print(f"\nmachine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    save_result("generator", {"validate_sample": args.validate_sample, "runs": runs})
    print("reproduce: .venv/bin/python bench/generator_bench.py --patients "
          f"{args.patients} --rss-patients {args.rss_patients} --workers {' '.join(map(str, args.workers))} "
          f"--validate-sample {args.validate_sample}")
    print(f"same as:   fhirpulse generate -n {args.patients} --out DIR --workers {args.workers[-1]} "
          f"--validate-sample {args.validate_sample} --no-progress")


if __name__ == "__main__":
    main()
