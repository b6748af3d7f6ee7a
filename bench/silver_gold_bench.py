"""Silver + gold vs bronze, full vs incremental, side by side in one run on the embedded stack.

    .venv/bin/python bench/silver_gold_bench.py --patients 6500      # ~1M resources

Steps (one Spark session):
  1. generate batch 1 locally and land it; bronze ingests it (timed: the reference);
  2. silver --full and gold --full (timed): the full run, as a ratio to bronze on the same data;
  3. batch 2 = 1% new patients plus 1% of batch 1's patients updated; bronze ingests it (not timed);
  4. silver and gold incremental (timed), as a ratio to the full silver + gold run;
  5. batch 3 = 1% new patients and no updates; bronze ingests it (not timed); silver and gold incremental
     (timed): what an append costs without Copy-on-Write rewrites of the files that updated rows live in;
  6. the gold KPIs next to the generator's requested rates.
Prints a JSON result (also saved under .state/bench/) and the Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json

from common import land_generated, private_state_dir, save_result  # noqa: E402  (bench/ is on sys.path)
from common import timed as _timed

from fhirpulse.reporting.rates import requested_rates


def _land(cfg, args, batch: int, patients: int, update_fraction: float, subprefix: str) -> int:
    return land_generated(cfg, patients, args.seed, subprefix, "--earlier-patients", str(args.patients),
                          "--batch", str(batch), "--update-fraction", str(update_fraction))["resources"]


def _kpis(spark, cfg) -> dict:
    from fhirpulse.reporting.kpis import SUMMED, summarize
    from spark_jobs.lake import hudi
    from spark_jobs.lake.tables import kpi_table

    sums = hudi.read(spark, cfg, kpi_table(cfg)).groupBy().sum(*SUMMED).first()
    return summarize({name: sums[f"sum({name})"] for name in SUMMED})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=6500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    private_state_dir()
    from fhirpulse import stack
    from fhirpulse.core.config import load_config

    local = load_config("local")
    cfg = local.with_endpoint(stack.up(local, with_trino=False).aws_endpoint_url)
    try:
        from fhirpulse.stack.spark import local_session
        from spark_jobs.bronze.job import run_bronze
        from spark_jobs.gold.job import run_gold
        from spark_jobs.silver.job import run_silver

        resources = _land(cfg, args, 1, args.patients, cfg.generator.update_fraction, "bench-1")
        spark = local_session(cfg, "fhirpulse-bench")
        session = lambda: spark  # noqa: E731
        spark.range(1).count()
        bronze_s, _ = _timed(lambda: run_bronze(cfg, session))
        silver_s, silver = _timed(lambda: run_silver(cfg, session, full=True))
        gold_s, gold = _timed(lambda: run_gold(cfg, session, full=True))
        new_resources = _land(cfg, args, 2, max(1, args.patients // 100), 0.01, "bench-2")
        run_bronze(cfg, session)
        silver_inc_s, _ = _timed(lambda: run_silver(cfg, session))
        gold_inc_s, gold_inc = _timed(lambda: run_gold(cfg, session))
        appended_resources = _land(cfg, args, 3, max(1, args.patients // 100), 0.0, "bench-3")
        run_bronze(cfg, session)
        silver_app_s, _ = _timed(lambda: run_silver(cfg, session))
        gold_app_s, gold_app = _timed(lambda: run_gold(cfg, session))
        kpis = _kpis(spark, cfg)
        spark.stop()
    finally:
        stack.down()
    full = silver_s + gold_s
    incremental = silver_inc_s + gold_inc_s
    appended = silver_app_s + gold_app_s
    result = {
        "patients": args.patients, "resources": resources, "batch2_resources": new_resources,
        "bronze_s": round(bronze_s, 1), "silver_full_s": round(silver_s, 1), "gold_full_s": round(gold_s, 1),
        "silver_gold_full_vs_bronze": round(full / bronze_s, 2),
        "silver_incremental_s": round(silver_inc_s, 1), "gold_incremental_s": round(gold_inc_s, 1),
        "incremental_vs_full": round(incremental / full, 2), "silver_rows": silver.rows_out,
        "gold_stays": gold.rows_out, "gold_incremental_patients": gold_inc.details.get("patients"),
        "batch3_resources": appended_resources, "silver_append_s": round(silver_app_s, 1),
        "gold_append_s": round(gold_app_s, 1), "append_vs_full": round(appended / full, 2),
        "gold_append_patients": gold_app.details.get("patients"),
        "kpis": kpis, "recovered": {"checks": requested_rates(kpis, cfg.generator)},
    }
    print(json.dumps(result, indent=2))
    save_result("silver_gold", result)
    print(f"| silver + gold full, {resources:,} resources | {full:.1f} s (silver {silver_s:.1f} s, gold {gold_s:.1f} s) "
          f"| bronze {bronze_s:.1f} s | **{full / bronze_s:.2f}×** bronze |")
    print(f"| silver + gold incremental, +{new_resources:,} resources | {incremental:.1f} s | "
          f"full {full:.1f} s | **{incremental / full:.2f}×** full |")
    print(f"| silver + gold incremental, new patients only, +{appended_resources:,} resources | {appended:.1f} s "
          f"(silver {silver_app_s:.1f} s, gold {gold_app_s:.1f} s) | full {full:.1f} s | **{appended / full:.2f}×** full |")


if __name__ == "__main__":
    main()
