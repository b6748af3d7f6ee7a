"""Issue 27's targets 1–3, the local loop: each a ratio of two kinds of fresh process measured side by side in
one run, repeat after repeat, with medians and per-pair ratios.

    .venv/bin/python bench/local_loop_bench.py                    # 3 repeats; batch 1 = 60 patients (8,911 resources)
    .venv/bin/python bench/local_loop_bench.py --quick            # 1 repeat, the same sizes
    .venv/bin/python bench/local_loop_bench.py --only 1,2         # some targets
    git worktree add /tmp/fhirpulse-before <commit>              # before/after: the same bench on another commit
    .venv/bin/python bench/local_loop_bench.py --checkout /tmp/fhirpulse-before

  target 1  `fhirpulse run pipeline`, first load of batch 1    vs  a bare Spark start      ≤ 4×
  target 2  `fhirpulse run pipeline` with nothing new          vs  a bare Spark start      ≤ 1.5×
  target 3  `fhirpulse run pipeline` on batch 2                vs  the first load          ≤ 0.6×

Each repeat works on a fresh lake: our private embedded stack (moto only, its own $FHIRPULSE_STATE_DIR) is
stopped and started again, so every bucket, DynamoDB table and Glue database of the isolated env `benchloop`
(a derived config, fhirpulse/stack/envs.py) is new. Then, in this order (steps only as --only needs them):
  1. land batch 1: `fhirpulse generate -n 60` into the env's raw bucket (8,911 resources with --seed 27);
  2. bare    the checkout's `bench/overhead_bench.py --child bare`: the project's build_session (local[2])
             + spark.range(1).count() + stop                                            B of target 1
  3. first   `fhirpulse run pipeline`: the first load                          A of target 1, B of target 3
  4. idle    `fhirpulse run pipeline` again: nothing new                                 A of target 2
  5. bare    again                                                                       B of target 2
  6. land batch 2: `fhirpulse generate -n 15 --batch 2 --earlier-patients 60` (a quarter as many new
     patients, plus the config's update fraction of batch 1's patients re-emitted with changes);
  7. second  `fhirpulse run pipeline` on batch 2                                         A of target 3
So A and B alternate (B A | A B; A(first) … A(second)), and each ratio is of two runs of the same repeat:
first/bare(2), idle/bare(5), second/first. With target 2 selected, batch 2 follows a nothing-new run (which
commits no data); with --only 1,3 it follows the first load directly.

Every timed run is a fresh process (a new interpreter and JVM), timed from outside: the whole process's wall
clock, which is what a user waits for; the peak RSS of its process tree is kept too. The bare run also reports
its inside timing (build_session to after stop). After each pipeline run, `fhirpulse status --format json`
(not timed) gives each job's state and seconds. Each process's output is kept in a folder beside the JSON.

--quick keeps the sizes (60 + 15 patients: the targets are defined there, and the pipeline's time at this size
is nearly all fixed cost, so a smaller batch would save little and change the meaning) and runs 1 repeat.

--checkout PATH runs another checkout's code for every process (stack up/down, generate, run pipeline,
status, the derived config, the bare session): `python -m fhirpulse.cli` with the checkout as the working
directory and first on PYTHONPATH (ahead of this venv's editable install), and the checkout's own
bench/overhead_bench.py for the bare session. This venv and the machine's jar cache serve both. The script
checks at start that the CLI imports fhirpulse, spark_jobs and generator from the checkout.

Prints a Markdown table (target, A and B medians, the ratio's median (min–max), the threshold, met or not);
the JSON goes to .state/bench/ ($FHIRPULSE_BENCH_OUT under `make bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import suppress
from datetime import UTC, datetime
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
)

ENV = "benchloop"
PATIENTS = 60  # issue 27: `fhirpulse generate -n 60`, about 10k resources
THRESHOLDS = {1: 4.0, 2: 1.5, 3: 0.6}
# target: (A run, B run) of one repeat
PAIRS = {1: ("first", "bare_before"), 2: ("idle", "bare_after"), 3: ("second", "first")}


# --- processes, all of them the checkout's --------------------------------------------------------------------

def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fhirpulse.cli", *args]


def _use_checkout(checkout: Path) -> None:
    """Every subprocess from here on (ours, and common.generate's) runs the checkout's code: it is the working
    directory (sys.path[0] of `python -m`/`-c`) and first on PYTHONPATH."""
    os.environ["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    os.chdir(checkout)


def _imported_from(checkout: Path) -> dict[str, str]:
    """Where the CLI's processes import the project's packages from; each must be in the checkout."""
    code = ("import json, fhirpulse, spark_jobs, generator; "
            "print(json.dumps({m.__name__: m.__file__ for m in (fhirpulse, spark_jobs, generator)}))")
    where = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                      text=True).stdout)
    wrong = {name: path for name, path in where.items() if not Path(path).resolve().is_relative_to(checkout)}
    if wrong:
        raise SystemExit(f"the CLI would import {wrong}, not from {checkout}")
    return where


def _git(checkout: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(checkout), *args], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _derived_config(checkout: Path) -> str:
    """The isolated env's config, written by the checkout's own code from its own config/local.json (a child of
    this script with the checkout first on sys.path); $FHIRPULSE_CONFIG_DIR points at it from here on."""
    done = subprocess.run([sys.executable, __file__, "--child", "config", "--checkout", str(checkout)],
                          check=True, capture_output=True, text=True)
    folder = done.stdout.strip().splitlines()[-1]
    os.environ["FHIRPULSE_CONFIG_DIR"] = folder
    return folder


def _fresh_stack(log: Path) -> None:
    """Stop our private stack, if up, and start it again (moto only, local[2] jobs): a fresh, empty lake."""
    with log.open("a") as out:
        for cmd in (_cli("stack", "down"), _cli("stack", "up", "--env", ENV, "--no-trino", "--spark-workers", "0")):
            subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def _stack_down(state: str) -> None:
    """`fhirpulse stack down`; should the CLI itself fail (a checkout mid-edit), stop the processes our
    private stack state records (ours alone: that state folder is this script's)."""
    done = subprocess.run(_cli("stack", "down"), stdin=subprocess.DEVNULL, capture_output=True)
    recorded = Path(state) / "stack.json"
    if done.returncode and recorded.is_file():
        for pid in reversed(list(json.loads(recorded.read_text()).get("pids", {}).values())):
            with suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        print(f"stack down failed; stopped the recorded processes: {done.stderr.decode()[-500:]}", flush=True)


def _process(cmd: list[str], log: Path) -> dict:
    """One timed fresh process: its whole wall clock and the peak RSS of its tree; stdout and stderr to
    `log`.out/.err. Fails loudly with the end of its output."""
    out_file, err_file = log.with_suffix(".out"), log.with_suffix(".err")
    with out_file.open("w") as out, err_file.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        with PeakRSS(proc.pid, interval=0.5) as rss:
            proc.wait()
        seconds = time.perf_counter() - started
    if proc.returncode:
        tail = (out_file.read_text()[-1500:] + "\n" + err_file.read_text()[-1500:]).strip()
        raise RuntimeError(f"{' '.join(cmd[1:])} failed (exit {proc.returncode}; {log}.*):\n{tail}")
    return {"outside_s": round(seconds, 2), **rss.figures(), "log": str(out_file)}


def _bare(checkout: Path, log: Path) -> dict:
    """overhead_bench's bare child, the checkout's own: build_session + range(1).count() + stop."""
    run = _process([sys.executable, str(checkout / "bench" / "overhead_bench.py"), "--child", "bare",
                    "--env", ENV], log)
    inside = json.loads(Path(run["log"]).read_text().strip().splitlines()[-1])
    return run | {k: round(v, 2) for k, v in inside.items()}


def _pipeline(log: Path) -> dict:
    """`fhirpulse run pipeline` in a fresh process, then (not timed) the run's jobs from `fhirpulse status`."""
    run = _process(_cli("run", "pipeline", "--env", ENV), log)
    done = subprocess.run(_cli("status", "--env", ENV, "--format", "json", "--limit", "1"), check=True,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    last = json.loads(done.stdout)[0]
    return run | {"run_id": last["run_id"], "state": last["state"],
                  "jobs": {j["name"]: {"state": j["state"], "seconds": j["seconds"], "message": j["message"]}
                           for j in last["jobs"]}}


# --- one repeat ----------------------------------------------------------------------------------------------

def _repeat(i: int, targets: set[int], args, checkout: Path, logs: Path) -> dict:
    tag = f"repeat {i + 1}"
    r: dict = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    _fresh_stack(logs / f"{i + 1}-stack.log")
    r["batch1"] = generate(ENV, args.patients, args.seed)
    print(f"{tag}: fresh lake; batch 1: {r['batch1']['resources']:,} resources landed", flush=True)
    if 1 in targets:
        r["bare_before"] = _bare(checkout, logs / f"{i + 1}-bare-before")
        print(f"  bare Spark start {r['bare_before']['outside_s']:.1f} s", flush=True)
    r["first"] = _pipeline(logs / f"{i + 1}-first")
    print(f"  pipeline, first load {r['first']['outside_s']:.1f} s", flush=True)
    if 2 in targets:
        r["idle"] = _pipeline(logs / f"{i + 1}-idle")
        print(f"  pipeline, nothing new {r['idle']['outside_s']:.1f} s", flush=True)
        r["bare_after"] = _bare(checkout, logs / f"{i + 1}-bare-after")
        print(f"  bare Spark start {r['bare_after']['outside_s']:.1f} s", flush=True)
    if 3 in targets:
        r["batch2"] = generate(ENV, args.batch2_patients, args.seed, "raw", "--batch", "2",
                               "--earlier-patients", str(args.patients))
        r["second"] = _pipeline(logs / f"{i + 1}-second")
        print(f"  batch 2: {r['batch2']['resources']:,} resources; pipeline {r['second']['outside_s']:.1f} s",
              flush=True)
    r["ratios"] = {t: round(r[PAIRS[t][0]]["outside_s"] / r[PAIRS[t][1]]["outside_s"], 3) for t in sorted(targets)}
    return r


# --- the summary ---------------------------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _summary(runs: list[dict], targets: set[int]) -> dict:
    out = {}
    for t in sorted(targets):
        a, b = PAIRS[t]
        ratios = [r["ratios"][t] for r in runs]
        median = round(statistics.median(ratios), 2)
        out[t] = {"a": a, "b": b, "a_median_s": _median([r[a]["outside_s"] for r in runs]),
                  "b_median_s": _median([r[b]["outside_s"] for r in runs]), "ratios": ratios,
                  "ratio_median": median, "ratio_min": round(min(ratios), 2), "ratio_max": round(max(ratios), 2),
                  "threshold": THRESHOLDS[t], "met": median <= THRESHOLDS[t]}
    return out


def _breakdown(runs: list[dict]) -> dict:
    """Medians per kind of run: whole process, each job's seconds (from the workflow's run record), peak RSS;
    for the bare session its inside parts."""
    kinds = {}
    for kind in ("bare_before", "bare_after", "first", "idle", "second"):
        done = [r[kind] for r in runs if kind in r]
        if not done:
            continue
        k = {"outside_s": _median([d["outside_s"] for d in done]),
             "peak_rss_mb": _median([d["peak_rss_mb"] for d in done])}
        if "jobs" in done[0]:
            k["jobs_s"] = {job: _median([d["jobs"][job]["seconds"] or 0 for d in done]) for job in done[0]["jobs"]}
            k["job_states"] = sorted({j["state"] for d in done for j in d["jobs"].values()})
        else:
            k |= {part: _median([d[part] for d in done]) for part in ("session_s", "count_s", "stop_s", "inside_s")}
        kinds[kind] = k
    return kinds


def _print_tables(result: dict) -> None:
    s, n = result["targets"], result["repeats"]
    bare = "bare `local[2]` Spark start + `range(1).count()` + stop"
    what = {1: (f"`run pipeline`, first load ({result['batch1_resources']:,} resources)", bare),
            2: ("`run pipeline`, nothing new", bare),
            3: (f"`run pipeline`, batch 2 (+{result.get('batch2_resources') or 0:,} resources, with updates)",
                "`run pipeline`, batch 1 (first load)")}
    rows = []
    for t, v in s.items():
        spread = f" ({v['ratio_min']}–{v['ratio_max']})" if n > 1 else ""
        rows.append([t, what[t][0], what[t][1], f"{v['a_median_s']} s", f"{v['b_median_s']} s",
                     f"**{v['ratio_median']}×**{spread}", f"≤ {v['threshold']:g}×", "met" if v["met"] else "not met"])
    print(f"\nmedians of {n} repeat(s), each run a fresh process timed whole; ratio = A/B per repeat, median "
          f"(min–max); checkout {result['checkout']['path']} @ {result['checkout']['commit'] or '(not a git checkout)'}"
          f"{' (with uncommitted changes)' if result['checkout']['dirty'] else ''}\n")
    print(markdown_table(["target", "A", "B", "A median", "B median", "A/B median (min–max)", "target", "met?"], rows))
    rows = []
    for kind, k in result["runs_median"].items():
        if "jobs_s" in k:
            parts = ", ".join(f"{job} {sec} s" for job, sec in k["jobs_s"].items()) + f" ({', '.join(k['job_states'])})"
        else:
            parts = f"build_session {k['session_s']} s + count {k['count_s']} s + stop {k['stop_s']} s " \
                    f"= {k['inside_s']} s inside"
        rows.append([kind, f"{k['outside_s']} s", parts, f"{k['peak_rss_mb']:,.0f} MB"])
    print()
    print(markdown_table(["run (median)", "whole process", "parts: jobs (status) or bare session (inside)", "peak RSS of its tree"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="fresh lakes, each with every selected run (3)")
    parser.add_argument("--quick", action="store_true", help="1 repeat (the sizes stay: see above)")
    parser.add_argument("--only", action="append", metavar="1,2,3", help="targets to measure (default: all)")
    parser.add_argument("--checkout", type=Path, help="run this checkout's fhirpulse (e.g. a git worktree)")
    parser.add_argument("--patients", type=int, default=PATIENTS, help=f"batch 1's patients ({PATIENTS})")
    parser.add_argument("--batch2-patients", type=int, help="batch 2's new patients (a quarter of --patients)")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--child", choices=("config",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkout = (args.checkout or REPO).resolve()
    if args.child == "config":
        sys.path.insert(0, str(checkout))  # ahead of common's REPO: the checkout's write_derived_config
        print(derived_envs({ENV: {}}))
        return
    try:
        targets = {int(t) for group in args.only or ["1,2,3"] for t in group.split(",") if t.strip()}
    except ValueError:
        parser.error("--only takes target numbers: 1, 2, 3")
    if not targets or not targets <= set(THRESHOLDS):
        parser.error("--only takes target numbers: 1, 2, 3")
    if not (checkout / "fhirpulse" / "cli" / "__main__.py").is_file() or \
            not (checkout / "bench" / "overhead_bench.py").is_file():
        parser.error(f"{checkout} has no fhirpulse/cli/__main__.py or bench/overhead_bench.py")
    repeats = 1 if args.quick else args.repeats
    args.batch2_patients = args.batch2_patients or max(1, round(args.patients / 4))

    state = private_state_dir()
    _use_checkout(checkout)
    imported = _imported_from(checkout)
    config_dir = _derived_config(checkout)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = Path(os.environ.get(BENCH_OUT_VAR) or REPO / ".state" / "bench") / f"local_loop-{stamp}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"local loop, targets {sorted(targets)}, {repeats} repeat(s), checkout {checkout}; "
          f"state {state}; logs {logs}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
          flush=True)
    runs = []
    try:
        for i in range(repeats):
            runs.append(_repeat(i, targets, args, checkout, logs))
    finally:
        _stack_down(state)
    result = {
        "checkout": {"path": str(checkout), "commit": _git(checkout, "rev-parse", "--short", "HEAD"),
                     "dirty": bool(_git(checkout, "status", "--porcelain", "--untracked-files=no")),
                     "imports": imported, "config_dir": config_dir},
        "patients": args.patients, "batch2_patients": args.batch2_patients, "seed": args.seed, "repeats": repeats,
        "batch1_resources": runs[0]["batch1"]["resources"],
        "batch2_resources": runs[0]["batch2"]["resources"] if "batch2" in runs[0] else None,
        "targets": _summary(runs, targets), "runs_median": _breakdown(runs), "runs": runs, "logs": str(logs),
    }
    _print_tables(result)
    save_result("local_loop", result)


if __name__ == "__main__":
    main()
