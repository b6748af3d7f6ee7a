"""Bronze throughput vs plain Spark, side by side in one run, on the embedded stack.

    .venv/bin/python bench/bronze_bench.py --patients 6000      # ~1M resources

Steps (one Spark session, same raw objects in the emulated S3):
  1. generate the population locally (fhirpulse generate) and land it under the raw prefix;
  2. plain: spark.read.json(raw) -> Parquet, and spark.read.text(raw) -> Parquet (the cheapest baseline);
  3. bronze: the real job (ledger, sniffing, classification, one Hudi table per type, Glue sync, audit);
  4. bronze again with nothing new, next to the time a fresh Spark session takes to start.
Prints a JSON result and the Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import timed as _timed  # noqa: E402  (bench/ is the script's folder, so on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    state_dir = tempfile.mkdtemp(prefix="fhirpulse-bench-")
    os.environ["FHIRPULSE_STATE_DIR"] = state_dir
    from fhirpulse import deps, stack
    from fhirpulse.core.config import load_config
    from fhirpulse.stack.landing import upload_tree

    local = load_config("local")
    cfg = local.with_endpoint(stack.up(local, with_trino=False).aws_endpoint_url)
    try:
        with tempfile.TemporaryDirectory(prefix="fhirpulse-bench-data-") as data:
            subprocess.run([sys.executable, "-m", "fhirpulse.cli", "generate", "--patients", str(args.patients),
                            "--seed", str(args.seed), "--out", data, "--validate-sample", "0"], check=True,
                           stdout=subprocess.DEVNULL)
            files = [p for p in Path(data).rglob("*.ndjson")]
            resources = sum(1 for f in files for line in f.open("rb") if line.strip())
            raw_bytes = sum(f.stat().st_size for f in files)
            for f in Path(data).glob("generation-summary*"):
                f.unlink()  # not FHIR; the generator writes it beside the data only for local output
            upload_tree(cfg, Path(data), "bench")

        from spark_jobs.bronze.job import run_bronze
        from spark_jobs.lake import hudi
        from spark_jobs.lake.session import build_session

        session_start, spark = _timed(lambda: build_session(cfg, "fhirpulse-bench", deps.local_runtime()))
        raw = f"s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/bench/*/*/*.ndjson"
        out = f"s3://{cfg.s3.bucket}/bench-out"
        spark.range(1).count()  # warm the JVM before timing anything
        plain_json, _ = _timed(lambda: spark.read.json(raw).write.mode("overwrite").parquet(f"{out}/json"))
        plain_text, _ = _timed(lambda: spark.read.text(raw).write.mode("overwrite").parquet(f"{out}/text"))
        bronze, audit = _timed(lambda: run_bronze(cfg, lambda: spark))
        data_tables = [hudi.HudiTable("bronze", name, ["id"], "precombine_ts") for name in audit.tables]
        commits_before = sum(len(hudi.completed_commits(spark, cfg, t)) for t in data_tables)
        noop, noop_audit = _timed(lambda: run_bronze(cfg, lambda: spark))
        new_data_commits = sum(len(hudi.completed_commits(spark, cfg, t)) for t in data_tables) - commits_before
        spark.stop()
        result = {
            "patients": args.patients, "resources": resources, "raw_mb": round(raw_bytes / 1e6, 1),
            "files": len(files), "cores": os.cpu_count(),
            "spark_session_start_s": round(session_start, 1),
            "plain_json_to_parquet_s": round(plain_json, 1), "plain_text_to_parquet_s": round(plain_text, 1),
            "bronze_s": round(bronze, 1), "bronze_resources_per_s": round(resources / bronze),
            "bronze_vs_plain_json": round(bronze / plain_json, 2),
            "bronze_vs_plain_text": round(bronze / plain_text, 2),
            "bronze_rows": audit.rows_out, "quarantined": audit.quarantined,
            "nothing_new_s": round(noop, 1), "nothing_new_status": noop_audit.status,
            "nothing_new_data_commits": new_data_commits,
        }
    finally:
        stack.down()
    print(json.dumps(result, indent=2))
    print(f"| bronze, {resources:,} resources ({result['raw_mb']} MB NDJSON, {len(files)} files) "
          f"| {result['bronze_s']} s | {result['bronze_resources_per_s']:,} resources/s "
          f"| {result['bronze_vs_plain_json']}x plain read.json->Parquet ({result['plain_json_to_parquet_s']} s), "
          f"{result['bronze_vs_plain_text']}x read.text->Parquet ({result['plain_text_to_parquet_s']} s) |")
    print(f"| bronze, nothing new | {result['nothing_new_s']} s ({new_data_commits} data commits) "
          f"| Spark session start {session_start:.1f} s |")


if __name__ == "__main__":
    main()
