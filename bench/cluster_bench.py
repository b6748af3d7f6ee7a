"""The same pipeline on `local[2]` and on the embedded Spark standalone cluster, side by side in one run.

    .venv/bin/python bench/cluster_bench.py --patients 2000 --workers 2      # ~320k resources

One embedded stack with a cluster of `--workers` 1-core workers; two environments with the same generated
input: `benchlocal` (spark.master local[2]) and `benchcluster` (spark.master "stack"). Each runs
`fhirpulse run pipeline` in its own process, one after the other (each pays its own JVM start), timed from
the outside; the per-job seconds come from the run records. The KPIs of both must be equal.
Prints a JSON result (also saved under .state/bench/) and the Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import private_state_dir, save_result, timed  # noqa: E402  (bench/ is on sys.path)

ENVS = {"benchlocal": {"master": "local[2]"}, "benchcluster": {"master": "stack", "worker_cores": 1}}


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "fhirpulse.cli", *args], check=True, capture_output=True,
                          text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    private_state_dir()
    config_dir = Path(tempfile.mkdtemp(prefix="fhirpulse-bench-config-"))
    from fhirpulse.stack.envs import write_derived_config

    for env, spark in ENVS.items():
        write_derived_config(env, config_dir, spark=spark)
    os.environ["FHIRPULSE_CONFIG_DIR"] = str(config_dir)
    from fhirpulse import stack
    from fhirpulse.core.config import load_config
    from fhirpulse.stack.landing import upload_tree
    from fhirpulse.stack.provision import provision

    state = stack.up(load_config("benchlocal"), with_trino=True, spark_workers=args.workers)
    result = {"patients": args.patients, "workers": args.workers, "runs": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="fhirpulse-bench-data-") as data:
            _cli("generate", "--patients", str(args.patients), "--seed", str(args.seed), "--out", data,
                 "--validate-sample", "0", "--no-progress", "--env", "benchlocal")
            for f in Path(data).glob("generation-summary*"):
                f.unlink()
            result["resources"] = sum(1 for f in Path(data).rglob("*.ndjson") for line in f.open("rb") if line.strip())
            for env in ENVS:
                cfg = stack.resolve_stack_values(load_config(env))
                provision(cfg)
                upload_tree(cfg, Path(data), "bench")
        for env in ENVS:
            seconds, _ = timed(lambda env=env: _cli("run", "pipeline", "--env", env))
            run = json.loads(_cli("status", "--format", "json", "--env", env))[0]
            result["runs"][env] = {"wall_s": round(seconds, 1),
                                   "jobs_s": {j["name"]: j["seconds"] for j in run["jobs"]},
                                   "kpis": json.loads(_cli("kpis", "--format", "json", "--env", env))}
        result["spark_master"] = state.spark_master_url
    finally:
        stack.down()
    local, cluster = result["runs"]["benchlocal"], result["runs"]["benchcluster"]
    result["kpis_equal"] = local["kpis"] == cluster["kpis"]
    result["cluster_vs_local"] = round(cluster["wall_s"] / local["wall_s"], 2)
    print(json.dumps(result, indent=2))
    save_result("cluster", result)
    for name, run in (("local[2]", local), (f"cluster, {args.workers} workers × 1 core", cluster)):
        jobs = ", ".join(f"{k} {v} s" for k, v in run["jobs_s"].items())
        print(f"| {name} | {result['resources']:,} | {run['wall_s']} s | {jobs} |")
    print(f"cluster / local[2] = {result['cluster_vs_local']}×; KPIs equal: {result['kpis_equal']}")


if __name__ == "__main__":
    main()
