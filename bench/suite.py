"""The benchmark suite (`make bench`): every BENCHMARKS.md figure, one script after another, each in its own
process (each starts and stops its own private embedded stack). Run it alone on the machine: the figures are
wall-clock times on 2 cores.

    make bench                                        # everything at the documented sizes
    make bench BENCH_ARGS="--quick"                   # tiny sizes: checks that every script runs
    make bench BENCH_ARGS="--only scale,overhead"     # some of them
    .venv/bin/python bench/suite.py --list

Each script's stdout is shown and kept in .state/bench/suite-<time>/<name>.log (its stderr, the JSON job
events, in <name>.stderr.log); the scripts write their JSON results into the same folder
($FHIRPULSE_BENCH_OUT), and the suite prints where each one went and writes an index, suite.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import BENCH_OUT_VAR, REPO  # noqa: E402  (bench/ is the script's folder, so on sys.path)

SOF_TESTS = REPO.parent / "shared" / "fhir-samples" / "sql-on-fhir-v2-tests"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str  # under bench/, or "fhirpulse" for the CLI
    full: tuple[str, ...]
    quick: tuple[str, ...]
    population: bool = False  # takes --patients (the suite's --patients overrides it)
    about: str = ""

    def available(self) -> bool:
        if self.name == "sof":
            return SOF_TESTS.is_dir()
        return (REPO / "bench" / self.script).is_file()

    def command(self, quick: bool, patients: int | None, out: Path) -> list[str]:
        args = list(self.quick if quick else self.full)
        if patients and self.population:
            args[args.index("--patients") + 1] = str(patients)
        if self.name == "sof":
            return [sys.executable, "-m", "fhirpulse.cli", "views", "test-suite", str(SOF_TESTS),
                    "--report", str(out / "sof-report.json")]
        return [sys.executable, str(REPO / "bench" / self.script), *args]


BENCHES = (
    Bench("generator", "generator_bench.py", ("--patients", "10000", "--rss-patients", "2000", "--workers", "1", "2"),
          ("--patients", "500", "--rss-patients", "100", "--workers", "2"), about="generator resources/s and RSS"),
    Bench("bronze", "bronze_bench.py", ("--patients", "6500"), ("--patients", "60"), population=True,
          about="bronze vs read.json/read.text -> Parquet, bronze's phases, nothing new"),
    Bench("silver_gold", "silver_gold_bench.py", ("--patients", "6500"), ("--patients", "60"), population=True,
          about="silver + gold full vs bronze, incremental vs full, KPIs vs requested rates"),
    Bench("scale", "scale_bench.py", (), ("--quick",), about="scale curve 10k/100k/1M: time, resources/s, peak RSS"),
    Bench("overhead", "overhead_bench.py", (), ("--quick",),
          about="nothing-new pipeline vs bare Spark start; make demo end to end"),
    Bench("local_loop", "local_loop_bench.py", (), ("--quick",),
          about="issue 27 targets 1-3: first load and nothing new vs a bare Spark start; batch 2 vs batch 1"),
    Bench("query", "query_bench.py", ("--patients", "6500"), ("--patients", "60", "--runs", "2"), population=True,
          about="analyst query latency on Trino"),
    Bench("cluster", "cluster_bench.py", ("--patients", "1000", "--workers", "2"), ("--patients", "60"),
          about="local[2] vs a 2-worker standalone cluster"),
    Bench("peers_200k", "peers_bench.py", ("--patients", "1266"), ("--patients", "60"),
          about="our SQL-on-FHIR engine vs fhir4ds and helios-sof, same views and NDJSON, ~200k resources"),
    Bench("peers", "peers_bench.py", ("--patients", "6329"), ("--patients", "60"), population=True,
          about="the same at ~1M resources"),
    Bench("sof", "fhirpulse", (), (), about="SQL-on-FHIR v2 suite (when ../shared/fhir-samples has it)"),
)


def _run(bench: Bench, command: list[str], out: Path) -> dict:
    """Run one script: stdout to the terminal and <name>.log, stderr to <name>.stderr.log."""
    results = []
    started = time.monotonic()
    load = round(os.getloadavg()[0], 2)
    with (out / f"{bench.name}.log").open("w") as log, (out / f"{bench.name}.stderr.log").open("w") as err:
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True,
                                env=os.environ | {BENCH_OUT_VAR: str(out)})
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            if line.startswith("result: "):
                results.append(line.removeprefix("result: ").strip())
        proc.wait()
    if bench.name == "sof" and (out / "sof-report.json").is_file():
        results.append(str(out / "sof-report.json"))
    return {"name": bench.name, "command": " ".join(command), "exit_code": proc.returncode,
            "seconds": round(time.monotonic() - started, 1), "load_average_before": load, "results": results,
            "log": str(out / f"{bench.name}.log"), "stderr": str(out / f"{bench.name}.stderr.log")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (about 10k resources): a smoke run")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only these (comma-separated or repeated); see --list")
    parser.add_argument("--patients", type=int,
                        help="population for " + ", ".join(b.name for b in BENCHES if b.population))
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()
    if args.list:
        for b in BENCHES:
            print(f"{b.name:12} {'' if b.available() else '(absent) '}{b.about}")
        return
    names = {n.strip() for group in args.only or [] for n in group.split(",") if n.strip()}
    unknown = names - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {[b.name for b in BENCHES]}")
    chosen = [b for b in BENCHES if not names or b.name in names]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(os.environ.get(BENCH_OUT_VAR) or REPO / ".state" / "bench") / f"suite-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"benchmark suite{' (quick)' if args.quick else ''}: {', '.join(b.name for b in chosen)}; "
          f"output in {out}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    runs = []
    for bench in chosen:
        if not bench.available():
            print(f"\n=== {bench.name}: skipped ({bench.script if bench.name != 'sof' else SOF_TESTS} not found)")
            runs.append({"name": bench.name, "skipped": True})
            continue
        command = bench.command(args.quick, args.patients, out)
        print(f"\n=== {bench.name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(command))}",
              flush=True)
        runs.append(_run(bench, command, out))
    (out / "suite.json").write_text(json.dumps({"quick": args.quick, "started": stamp, "runs": runs}, indent=2))
    print(f"\n=== where the results went ({out}/suite.json)")
    for run in runs:
        if run.get("skipped"):
            print(f"{run['name']:12} skipped")
            continue
        state = "ok" if run["exit_code"] == 0 else f"FAILED (exit {run['exit_code']})"
        print(f"{run['name']:12} {state:18} {run['seconds']:>7.0f} s  "
              f"{', '.join(run['results']) or 'no JSON file: see ' + run['log']}")
    if any(run.get("exit_code") for run in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
