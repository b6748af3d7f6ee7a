"""Fixed costs, side by side in one run: the pipeline with nothing new vs a bare Spark session start, then
`make demo` end to end from a warm cache.

    .venv/bin/python bench/overhead_bench.py                  # 1,000 patients committed first; then make demo
    .venv/bin/python bench/overhead_bench.py --quick          # 60 patients, 2 repeats; fhirpulse demo -n 60

1. A private embedded stack (moto only) and an isolated env (`benchidle`); one generated batch lands in its
   bucket and a child process runs bronze, silver and gold on it (the first load: everything committed).
2. Then, alternating, --repeats times each, two kinds of child process, each a fresh interpreter and JVM:
     bare  build_session + spark.range(1).count() + stop;
     idle  build_session + bronze + silver + gold (each finds nothing new) + stop.
   Each is timed inside (from build_session to after stop) and outside (the whole process, interpreter and
   imports included). The data commits of every non-audit table are counted before and after each idle run
   (from the .hoodie timelines in S3): a run with nothing new must add none.
3. Our stack is stopped; then `make demo` (or `fhirpulse demo -n N` with --demo-patients) runs as a
   subprocess with its own FHIRPULSE_STATE_DIR, so its stack (moto + Trino) is its own and the checkout's
   default stack (.state/stack.json) is not touched (checked). Timed from outside; peak RSS of its whole
   process tree (moto, Trino, the Spark JVM, the generator); its output is kept beside the JSON result.
Prints a Markdown table; the JSON goes to .state/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (  # noqa: E402  (bench/ is the script's folder, so on sys.path)
    BENCH_OUT_VAR,
    REPO,
    PeakRSS,
    derived_envs,
    generate,
    markdown_table,
    private_state_dir,
    save_result,
    timed,
)

ENV = "benchidle"
LAYERS = ("bronze", "silver", "gold")
COMMIT_SUFFIXES = (".commit", ".deltacommit", ".replacecommit")


def run_child(kind: str, env: str) -> dict:
    """In this fresh process: a bare session start, or the three jobs in one session."""
    from fhirpulse import stack
    from fhirpulse.core.config import load_config
    from fhirpulse.core.logs import console_json
    from fhirpulse.stack.spark import local_session
    from spark_jobs.bronze.job import run_bronze
    from spark_jobs.gold.job import run_gold
    from spark_jobs.silver.job import run_silver

    console_json(False)
    cfg = stack.resolve_stack_values(load_config(env))
    started = time.perf_counter()
    out: dict = {}
    out["session_s"], spark = timed(lambda: local_session(cfg, f"fhirpulse-bench-{kind}"))
    if kind == "bare":
        out["count_s"], _ = timed(lambda: spark.range(1).count())
    else:
        session = lambda: spark  # noqa: E731
        for layer, job in (("bronze", run_bronze), ("silver", run_silver), ("gold", run_gold)):
            out[f"{layer}_s"], audit = timed(lambda job=job: job(cfg, session))
            out[f"{layer}_status"] = audit.status
    out["stop_s"], _ = timed(spark.stop)
    out["inside_s"] = time.perf_counter() - started
    return out


def _child(kind: str) -> dict:
    seconds, done = timed(lambda: subprocess.run([sys.executable, __file__, "--child", kind, "--env", ENV],
                                                 check=True, stdout=subprocess.PIPE, text=True))
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"outside_s": seconds}


def data_commits(cfg) -> int:
    """Completed commits on the lake's tables except the audit tables (one audit row per run is by design),
    counted from the .hoodie timelines in S3 (not the metadata table's, not archived ones)."""
    from fhirpulse.core import aws

    audit = {cfg.bronze.audit_table, cfg.silver.audit_table, cfg.gold.audit_table}
    count = 0
    for page in aws.client(cfg, "s3").get_paginator("list_objects_v2").paginate(
            Bucket=cfg.s3.bucket, Prefix=f"{cfg.s3.lake_prefix}/"):
        for obj in page.get("Contents", []):
            table, sep, name = obj["Key"].partition("/.hoodie/")
            if sep and "/" not in name and name.endswith(COMMIT_SUFFIXES) and table.rsplit("/", 1)[-1] not in audit:
                count += 1
    return count


def run_demo(patients: int | None, log: Path) -> dict:
    """`make demo` (patients None) or `fhirpulse demo -n N` as a subprocess on its own state folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FHIRPULSE_CONFIG_DIR", "FHIRPULSE_ENV", "FHIRPULSE_SPARK_LOG", BENCH_OUT_VAR)}
    env["FHIRPULSE_STATE_DIR"] = tempfile.mkdtemp(prefix="fhirpulse-bench-demo-")
    if patients is None:
        cmd, cwd = ["make", "-C", str(REPO), "demo"], REPO  # the report lands in <repo>/reports (git-ignored)
    else:
        cmd, cwd = [sys.executable, "-m", "fhirpulse.cli", "demo", "-n", str(patients)], Path(env["FHIRPULSE_STATE_DIR"])
    default_state = REPO / ".state" / "stack.json"
    before = default_state.read_text() if default_state.is_file() else None
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with PeakRSS(proc.pid, interval=0.5) as rss:
            proc.wait()
    seconds = time.perf_counter() - started
    after = default_state.read_text() if default_state.is_file() else None
    text = log.read_text()
    done = re.search(r"done in (\d+)s", text)
    return {"command": " ".join(cmd if patients is not None else ["make", "demo"]), "exit_code": proc.returncode,
            "wall_s": round(seconds, 1), "demo_reported_s": int(done.group(1)) if done else None,
            "peak_rss_tree_mb": rss.figures()["peak_rss_mb"], "default_stack_untouched": before == after,
            "stack_stopped": "stack stopped" in text, "log": str(log)}


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, help="patients committed before the nothing-new runs (1000)")
    parser.add_argument("--repeats", type=int, help="bare and idle child processes each (3)")
    parser.add_argument("--demo-patients", type=int,
                        help="run `fhirpulse demo -n N` instead of `make demo` (its default is 2000 patients)")
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--quick", action="store_true", help="60 patients, 2 repeats, fhirpulse demo -n 60")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--child", choices=("bare", "jobs"), help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.env)))
        return
    patients = args.patients or (60 if args.quick else 1000)
    repeats = args.repeats or (2 if args.quick else 3)
    demo_patients = args.demo_patients or (60 if args.quick else None)

    private_state_dir()
    derived_envs({ENV: {}})
    from fhirpulse import stack
    from fhirpulse.core.config import load_config

    stack.up(load_config(ENV), with_trino=False, spark_workers=0)
    cfg = stack.resolve_stack_values(load_config(ENV))
    bare, idle = [], []
    try:
        landed = generate(ENV, patients, args.seed)
        print(f"{landed['resources']:,} resources landed; first load …", flush=True)
        first = _child("jobs")
        for i in range(repeats):
            bare.append(_child("bare"))
            before = data_commits(cfg)
            idle.append(_child("jobs") | {"data_commits_added": data_commits(cfg) - before})
            print(f"  repeat {i + 1}: bare {bare[-1]['inside_s']:.1f} s, nothing new {idle[-1]['inside_s']:.1f} s "
                  f"(inside)", flush=True)
    finally:
        stack.down()
    result: dict = {
        "patients": patients, "resources": landed["resources"], "repeats": repeats,
        "first_load": {k: round(v, 1) if isinstance(v, float) else v for k, v in first.items()},
        "bare_session": bare, "nothing_new": idle,
        "bare_inside_median_s": _median(bare, "inside_s"), "bare_outside_median_s": _median(bare, "outside_s"),
        "nothing_new_inside_median_s": _median(idle, "inside_s"),
        "nothing_new_outside_median_s": _median(idle, "outside_s"),
        "nothing_new_layers_median_s": {layer: _median(idle, f"{layer}_s") for layer in LAYERS},
        "nothing_new_statuses": sorted({r[f"{layer}_status"] for r in idle for layer in LAYERS}),
        "nothing_new_data_commits_added": sum(r["data_commits_added"] for r in idle),
    }
    result["nothing_new_vs_bare_inside"] = round(result["nothing_new_inside_median_s"]
                                                 / result["bare_inside_median_s"], 2)
    result["nothing_new_vs_bare_outside"] = round(result["nothing_new_outside_median_s"]
                                                  / result["bare_outside_median_s"], 2)
    if not args.no_demo:
        folder = Path(os.environ.get(BENCH_OUT_VAR) or REPO / ".state" / "bench")
        folder.mkdir(parents=True, exist_ok=True)
        print("demo …", flush=True)
        result["demo"] = run_demo(demo_patients, folder / f"demo-{time.strftime('%Y%m%dT%H%M%S')}.log")
    print(json.dumps(result, indent=2))
    layers = result["nothing_new_layers_median_s"]
    rows = [["bare Spark session: build_session + range(1).count() + stop", f"{result['bare_inside_median_s']} s",
             f"{result['bare_outside_median_s']} s", "1.00×"],
            [f"nothing new: bronze {layers['bronze']} s + silver {layers['silver']} s + gold {layers['gold']} s, "
             f"in one session ({', '.join(result['nothing_new_statuses'])}; "
             f"{result['nothing_new_data_commits_added']} data commits)",
             f"{result['nothing_new_inside_median_s']} s", f"{result['nothing_new_outside_median_s']} s",
             f"**{result['nothing_new_vs_bare_inside']}×** ({result['nothing_new_vs_bare_outside']}× outside)"]]
    print(markdown_table([f"median of {repeats}, each a fresh process", "inside", "whole process", "÷ bare"], rows))
    if "demo" in result:
        d = result["demo"]
        print(f"\n{d['command']}: {d['wall_s']} s wall (demo says {d['demo_reported_s']} s), exit {d['exit_code']}, "
              f"peak RSS of its tree {d['peak_rss_tree_mb']:,} MB; default stack untouched: "
              f"{d['default_stack_untouched']}; log {d['log']}")
    save_result("overhead", result)
    if result["nothing_new_statuses"] != ["NOTHING_NEW"] or result["nothing_new_data_commits_added"] or \
            result.get("demo", {}).get("exit_code"):
        sys.exit(1)


if __name__ == "__main__":
    main()
