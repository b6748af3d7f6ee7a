"""Scale curve: generate -> bronze -> silver -> gold at growing sizes, each size a first load in its own isolated
environment (bucket, ledger, tables, databases) on one embedded stack; per step and size the wall time,
resources/s and peak RSS; then whether time grows linearly after start-up.

    .venv/bin/python bench/scale_bench.py                          # 10k, 100k, 1M resources
    .venv/bin/python bench/scale_bench.py --with-3m                # and 3M (consider --driver-memory 12g)
    .venv/bin/python bench/scale_bench.py --sizes 10k,100k         # choose sizes
    .venv/bin/python bench/scale_bench.py --quick                  # 2k, 5k, 10k: a smoke run

One stack (moto only, no Trino) in a private state folder. Each size runs in a fresh child process, so its
driver JVM and its memory are its own:
  generate   `fhirpulse generate --out raw` as a subprocess: generation + multipart upload into the env's
             bucket; peak RSS of the generator's process tree (main process + workers);
  spark      build_session + spark.range(1).count() (fixed, not per resource);
  bronze, silver, gold
             the jobs in that one session, in the workflow's order and mode (silver and gold incremental,
             which on a first load is everything); peak RSS of the child's tree: Python + the driver JVM +
             its Python workers.
Sizes are resource counts, turned into patients at 158 resources per patient; the measured count is reported.
After each size its bucket is emptied (unless --keep-data) so that moto does not grow across sizes.
Linearity: per step, least squares time = a + b*n over the sizes, the largest residual, the per-resource time
at the two largest sizes, and the marginal cost per resource of the last segment against the one before.
Prints a Markdown table; the JSON goes to .state/bench/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import (  # noqa: E402  (bench/ is the script's folder, so on sys.path)
    count_label,
    derived_envs,
    generate,
    markdown_table,
    measured,
    parse_count,
    patients_for,
    private_state_dir,
    save_result,
)

DEFAULT_SIZES = "10k,100k,1M"
QUICK_SIZES = "2k,5k,10k"
PIPELINE = ("bronze", "silver", "gold")
STEPS = ("generate", "spark", *PIPELINE)
LINEAR_STEPS = ("generate", *PIPELINE, "pipeline")  # "pipeline" = bronze + silver + gold


def _env(resources: int) -> str:
    return f"scale{resources}"


def run_child(args: argparse.Namespace) -> dict:
    """One size, in this (fresh) process: generate, start Spark, bronze, silver, gold."""
    from fhirpulse import stack
    from fhirpulse.core.config import load_config
    from fhirpulse.core.logs import console_json
    from fhirpulse.stack.spark import local_session
    from spark_jobs.bronze.job import run_bronze
    from spark_jobs.gold.job import run_gold
    from spark_jobs.silver.job import run_silver

    console_json(False)
    cfg = stack.resolve_stack_values(load_config(args.env))
    gen = generate(args.env, args.patients, args.seed)
    steps = {"generate": {k: gen[k] for k in ("seconds", "peak_rss_mb", "peak_rss_largest_mb")}}

    def start():
        spark = local_session(cfg, f"fhirpulse-scale-{args.env}")
        spark.range(1).count()
        return spark

    seconds, spark, rss = measured(start)
    steps["spark"] = {"seconds": seconds, **rss}
    session = lambda: spark  # noqa: E731
    jobs = {"bronze": lambda: run_bronze(cfg, session), "silver": lambda: run_silver(cfg, session),
            "gold": lambda: run_gold(cfg, session)}
    for name, job in jobs.items():
        seconds, audit, rss = measured(job)
        steps[name] = {"seconds": seconds, "status": audit.status, "records_in": audit.records_in,
                       "rows_out": audit.rows_out, "quarantined": audit.quarantined, **rss}
    spark.stop()
    return {"env": args.env, "patients": args.patients, "resources": gen["resources"],
            "raw_mb": round(gen["bytes"] / 1e6, 1), "files": gen["files"], "steps": steps}


def _empty_bucket(cfg) -> None:
    from fhirpulse.core import aws

    s3 = aws.client(cfg, "s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.s3.bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=cfg.s3.bucket, Delete={"Objects": keys, "Quiet": True})


def linearity(points: list[tuple[int, float]]) -> dict:
    """time = a + b*n by least squares over (n, seconds) points, and how well the sizes fit it."""
    points = sorted(points)
    if len(points) < 2:
        return {"verdict": "one size: no curve"}
    ns, ts = [p[0] for p in points], [p[1] for p in points]
    mean_n, mean_t = sum(ns) / len(ns), sum(ts) / len(ts)
    b = sum((n - mean_n) * (t - mean_t) for n, t in points) / sum((n - mean_n) ** 2 for n in ns)
    a = mean_t - b * mean_n
    residuals = [t - (a + b * n) for n, t in points]
    (n1, t1), (n2, t2) = points[-2], points[-1]
    top = (t2 - t1) / (n2 - n1)
    fit = {"a_s": round(a, 2), "b_us_per_resource": round(b * 1e6, 2),
           "residuals_s": [round(r, 2) for r in residuals],
           "max_residual_share": round(max(abs(r) / t for r, t in zip(residuals, ts, strict=True)), 3),
           "per_resource_us_two_largest": [round(t1 / n1 * 1e6, 2), round(t2 / n2 * 1e6, 2)],
           "marginal_us_per_resource_last_segment": round(top * 1e6, 2)}
    variable = (t2 - a) / t2  # the share of the largest size's time that the fit puts on the resources
    if b <= 0 or variable < 0.25:
        fit["verdict"] = (f"flat: a fixed {mean_t:.0f} s or so dominates at these sizes; no per-resource "
                          "trend can be read from them")
        return fit
    if len(points) == 2:
        fit["verdict"] = (f"two sizes (the fit is exact): {a:.1f} s fixed + {b * 1e6:.1f} µs per resource; "
                          "a third size is needed to see curvature")
        return fit
    n0, t0 = points[-3]
    below = (t1 - t0) / (n1 - n0)
    fit["marginal_us_per_resource_segment_before"] = round(below * 1e6, 2)
    growth = top / below if below > 0 else float("inf")
    fit["marginal_growth"] = round(growth, 2)
    if growth > 1.25:
        fit["verdict"] = (f"super-linear: between the two largest sizes a resource costs {growth:.2f}x what it "
                          "did in the segment before")
    elif growth < 0.8:
        fit["verdict"] = (f"sub-linear: between the two largest sizes a resource costs {growth:.2f}x what it did "
                          "in the segment before (economies of scale, or fixed costs still settling)")
    else:
        fit["verdict"] = (f"linear after start-up: about {a:.1f} s fixed + {b * 1e6:.1f} µs per resource (a "
                          f"resource in the last segment costs {growth:.2f}x one in the segment before)")
    return fit


def report(runs: list[dict]) -> tuple[str, dict]:
    rows = []
    for run in runs:
        n = run["resources"]
        for step in STEPS:
            s = run["steps"][step]
            rate = "–" if step == "spark" else f"{n / s['seconds']:,.0f}"
            rows.append([f"{n:,}", step, f"{s['seconds']:.1f} s", rate,
                         f"{s['peak_rss_mb']:,} MB", f"{s['peak_rss_largest_mb']:,} MB"])
        total = sum(run["steps"][s]["seconds"] for s in PIPELINE)
        rows.append([f"{n:,}", "**bronze + silver + gold**", f"**{total:.1f} s**", f"**{n / total:,.0f}**",
                     f"{max(run['steps'][s]['peak_rss_mb'] for s in PIPELINE):,} MB",
                     f"{max(run['steps'][s]['peak_rss_largest_mb'] for s in PIPELINE):,} MB"])
    table = markdown_table(["resources", "step", "wall", "resources/s", "peak RSS (tree)", "largest process"],
                           rows)
    fits = {}
    for step in LINEAR_STEPS:
        steps = PIPELINE if step == "pipeline" else (step,)
        fits[step] = linearity([(r["resources"], sum(r["steps"][s]["seconds"] for s in steps)) for r in runs])
    return table, fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help=f"resource counts, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--with-3m", action="store_true", help="add 3M to the sizes")
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES} (a smoke run)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--driver-memory", help="spark.driver_memory for every size (config default: 6g)")
    parser.add_argument("--keep-data", action="store_true", help="do not empty each size's bucket after it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    parser.add_argument("--patients", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return

    sizes = sorted({parse_count(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
                   .split(",")} | ({3_000_000} if args.with_3m else set()))
    private_state_dir()
    spark_conf = {"spark": {"driver_memory": args.driver_memory}} if args.driver_memory else {}
    derived_envs({_env(n): spark_conf for n in sizes})
    from fhirpulse import stack
    from fhirpulse.core.config import load_config
    from fhirpulse.stack.provision import provision

    stack.up(load_config(_env(sizes[0])), with_trino=False, spark_workers=0)
    runs = []
    started = time.monotonic()
    try:
        for n in sizes:
            cfg = stack.resolve_stack_values(load_config(_env(n)))
            provision(cfg)
            print(f"size {count_label(n)}: {patients_for(n):,} patients …", flush=True)
            child = subprocess.run([sys.executable, __file__, "--child", "--env", _env(n), "--patients",
                                    str(patients_for(n)), "--seed", str(args.seed)],
                                   check=True, stdout=subprocess.PIPE, text=True)
            run = json.loads(child.stdout.strip().splitlines()[-1])
            run["asked"] = n
            runs.append(run)
            print("  " + ", ".join(f"{s} {run['steps'][s]['seconds']:.1f} s" for s in STEPS), flush=True)
            if not args.keep_data:
                _empty_bucket(cfg)
    finally:
        stack.down()
    table, fits = report(runs)
    problems = [f"{r['resources']:,}: {s} {r['steps'][s]['status']}" for r in runs for s in PIPELINE
                if r["steps"][s]["status"] != "SUCCEEDED"]
    problems += [f"{r['resources']:,}: bronze took {r['steps']['bronze']['records_in']:,} records"
                 for r in runs if r["steps"]["bronze"]["records_in"] != r["resources"]]
    result = {"sizes": sizes, "seed": args.seed, "driver_memory": args.driver_memory or "config default",
              "wall_s": round(time.monotonic() - started, 1), "runs": runs, "linearity": fits,
              "problems": problems}
    print()
    print(table)
    print()
    print(markdown_table(
        ["step", "fit a + b·n", "largest residual", "µs/resource, two largest sizes", "verdict"],
        [[step, f"{f['a_s']} s + {f['b_us_per_resource']} µs·n" if "a_s" in f else "–",
          f"{f['max_residual_share']:.0%}" if "a_s" in f else "–",
          " → ".join(map(str, f.get("per_resource_us_two_largest", []))) or "–", f["verdict"]]
         for step, f in fits.items()]))
    if problems:
        print("\nPROBLEMS: " + "; ".join(problems))
    save_result("scale", result)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
