"""Analyst query latency on Trino over the gold tables of a ~1M-resource population (issue: < 1 s each).

    .venv/bin/python bench/query_bench.py --patients 6500      # ~1M resources

Steps: start the embedded stack (moto + Trino) in a private state folder; generate one batch and upload it;
run the workflow (bronze -> silver -> gold) once; then for every file in trino/queries and the summary KPI
query of `fhirpulse kpis`: one warm-up run, then --runs timed runs through the same engine the CLI uses.
Prints a JSON result (also saved under .state/bench/) and the Markdown rows for BENCHMARKS.md (median and max per query).
"""

from __future__ import annotations

import argparse
import json
import statistics

from common import land_generated, private_state_dir, save_result, timed  # noqa: E402  (bench/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=6500)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    private_state_dir()
    from fhirpulse import stack
    from fhirpulse.core.config import load_config
    from fhirpulse.core.config.pipeline import load_pipeline
    from fhirpulse.core.logs import console_json
    from fhirpulse.reporting.engine import engine_for
    from fhirpulse.reporting.kpis import kpi_sql
    from fhirpulse.reporting.queries import all_queries
    from fhirpulse.workflow.runner import Runner

    console_json(False)
    local = load_config("local")
    state = stack.up(local)
    cfg = local.with_endpoint(state.aws_endpoint_url)
    try:
        resources = land_generated(cfg, args.patients, args.seed, "bench")["resources"]
        pipeline_s, run = timed(lambda: Runner(cfg, load_pipeline()).run(trigger="bench"))
        assert run.state == "SUCCEEDED", run.summary()
        engine = engine_for(local)
        queries = {q.name: q.render(cfg) for q in all_queries()} | {"kpis (summary)": kpi_sql(cfg)}
        results = {}
        for name, sql in queries.items():
            _, (_, rows) = timed(lambda sql=sql: engine.query(sql))  # warm-up
            times = [timed(lambda sql=sql: engine.query(sql))[0] for _ in range(args.runs)]
            results[name] = {"rows": len(rows), "median_s": round(statistics.median(times), 3),
                             "max_s": round(max(times), 3)}
    finally:
        stack.down()
    result = {"patients": args.patients, "resources": resources, "pipeline_s": round(pipeline_s, 1),
              "stays": run.job("gold").rows_out, "runs": args.runs, "queries": results}
    print(json.dumps(result, indent=2))
    save_result("query", result)
    for name, r in results.items():
        verdict = "met" if r["median_s"] < 1.0 else "**missed**"
        print(f"| `{name}` | {r['rows']} | {r['median_s']:.3f} s | {r['max_s']:.3f} s | {verdict} |")


if __name__ == "__main__":
    main()
