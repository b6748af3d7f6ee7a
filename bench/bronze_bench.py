"""Bronze throughput vs plain Spark, side by side in one run, on the embedded stack, and where bronze's time goes.

    .venv/bin/python bench/bronze_bench.py --patients 6500      # ~1M resources

Steps (one Spark session, same raw objects in the emulated S3):
  1. generate the population locally (fhirpulse generate) and land it under the raw prefix;
  2. plain: spark.read.json(raw) -> Parquet, and spark.read.text(raw) -> Parquet (the cheapest baseline);
  3. bronze: the real job (ledger, sniffing, classification, one Hudi table per type, Glue sync, audit), its
     phases timed from the job's own JSON log events (listed, classified, table_committed, file);
  4. bronze again with nothing new, next to the time a fresh Spark session takes to start.
Prints a JSON result (also saved under .state/bench/) and the Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from common import (  # noqa: E402  (bench/ is the script's folder, so on sys.path)
    captured_events,
    event_time,
    land_generated,
    private_state_dir,
    save_result,
    timed,
)

from spark_jobs.lake import timeline


def bronze_phases(events: list[dict], called: float, returned: float, ended_at: float) -> dict[str, float]:
    """Seconds per phase of one bronze run that ingested files, from its log events: `called`/`returned` are
    the wall-clock bounds of the run_bronze call, `ended_at` the audit record's end (set just before the audit
    row is written)."""
    def at(name: str, last: bool = False) -> dict:
        found = [e for e in events if e["event"] == f"bronze.{name}"]
        return found[-1] if last else found[0]

    started, listed, classified = (event_time(at(n)) for n in ("started", "listed", "classified"))
    classify_s = at("classified")["seconds"]
    last_table, last_file = event_time(at("table_committed", True)), event_time(at("file", True))
    phases = {
        "lease": started - called,
        "list + ledger lookup": listed - started,
        "claim + sniff": classified - listed - classify_s,
        "read, parse, classify, cache, per-file counts": classify_s,
        "duplicate-id check + Hudi writes (tables concurrently, Glue sync)": last_table - classified,
        "ledger: files COMMITTED": last_file - last_table,
        "audit row + lease release": returned - min(max(ended_at, last_file), returned),
    }
    phases["other (between events)"] = returned - called - sum(phases.values())
    return {name: round(max(s, 0.0), 2) for name, s in phases.items()}


def table_commit_offsets(events: list[dict]) -> dict[str, float]:
    """Seconds after `classified` at which each table's commit completed (largest tables are started first)."""
    classified = event_time(next(e for e in events if e["event"] == "bronze.classified"))
    return {e["table"]: round(event_time(e) - classified, 2) for e in events if e["event"] == "bronze.table_committed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    private_state_dir()
    from fhirpulse import stack
    from fhirpulse.core.config import load_config

    local = load_config("local")
    cfg = local.with_endpoint(stack.up(local, with_trino=False).aws_endpoint_url)
    try:
        landed = land_generated(cfg, args.patients, args.seed, "bench")
        resources, raw_bytes, files = landed["resources"], landed["bytes"], landed["files"]

        from fhirpulse.stack.spark import local_session
        from spark_jobs.bronze.job import run_bronze
        from spark_jobs.lake import tables

        session_start, spark = timed(lambda: local_session(cfg, "fhirpulse-bench"))
        raw = f"s3://{cfg.s3.bucket}/{cfg.s3.raw_prefix}/bench/*/*/*.ndjson"
        out = f"s3://{cfg.s3.bucket}/bench-out"
        spark.range(1).count()  # warm the JVM before timing anything
        plain_json, _ = timed(lambda: spark.read.json(raw).write.mode("overwrite").parquet(f"{out}/json"))
        plain_text, _ = timed(lambda: spark.read.text(raw).write.mode("overwrite").parquet(f"{out}/text"))
        with captured_events() as events:
            called = time.time()
            bronze, audit = timed(lambda: run_bronze(cfg, lambda: spark))
            returned = time.time()
        phases = bronze_phases(events, called, returned, audit.ended_at.timestamp())
        data_tables = [tables.bronze_table(name) for name in audit.tables]
        commits_before = sum(len(timeline.completed_commits(cfg, t)) for t in data_tables)
        noop, noop_audit = timed(lambda: run_bronze(cfg, lambda: spark))
        new_data_commits = sum(len(timeline.completed_commits(cfg, t)) for t in data_tables) - commits_before
        spark.stop()
        result = {
            "patients": args.patients, "resources": resources, "raw_mb": round(raw_bytes / 1e6, 1),
            "files": files, "cores": os.cpu_count(),
            "spark_session_start_s": round(session_start, 1),
            "plain_json_to_parquet_s": round(plain_json, 1), "plain_text_to_parquet_s": round(plain_text, 1),
            "bronze_s": round(bronze, 1), "bronze_resources_per_s": round(resources / bronze),
            "bronze_vs_plain_json": round(bronze / plain_json, 2),
            "bronze_vs_plain_text": round(bronze / plain_text, 2),
            "bronze_minus_plain_text_s": round(bronze - plain_text, 1),
            "bronze_phases_s": phases, "bronze_table_committed_after_classified_s": table_commit_offsets(events),
            "bronze_rows": audit.rows_out, "quarantined": audit.quarantined,
            "nothing_new_s": round(noop, 1), "nothing_new_status": noop_audit.status,
            "nothing_new_data_commits": new_data_commits,
        }
    finally:
        stack.down()
    print(json.dumps(result, indent=2))
    save_result("bronze", result)
    print(f"| bronze, {resources:,} resources ({result['raw_mb']} MB NDJSON, {files} files) "
          f"| {result['bronze_s']} s | {result['bronze_resources_per_s']:,} resources/s "
          f"| {result['bronze_vs_plain_json']}x plain read.json->Parquet ({result['plain_json_to_parquet_s']} s), "
          f"{result['bronze_vs_plain_text']}x read.text->Parquet ({result['plain_text_to_parquet_s']} s) |")
    print(f"| bronze, nothing new | {result['nothing_new_s']} s ({new_data_commits} data commits) "
          f"| Spark session start {session_start:.1f} s |")
    print("\n| bronze phase | seconds | share of bronze |\n|---|---|---|")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.1f} s | {seconds / bronze:.0%} |")
    print(f"| *plain `read.text→Parquet` on the same files* | *{plain_text:.1f} s* | *{plain_text / bronze:.0%}* |")


if __name__ == "__main__":
    main()
