"""Our SQL-on-FHIR engine (spark_jobs/sof on local Spark) against two peers, same ViewDefinitions, same NDJSON.

    .venv/bin/python bench/peers_bench.py --patients 127        # ~20k resources (smoke)
    .venv/bin/python bench/peers_bench.py --patients 1266       # ~200k resources
    .venv/bin/python bench/peers_bench.py --patients 6329       # ~1M resources

Engines (bench/peers.py installs the peers under ~/.cache/fhirpulse/peers/, idempotently, pinned):
  fhirpulse  spark_jobs/sof, in a local session built like `fhirpulse views run` (config `local`: local[2]);
  fhir4ds    fhir4ds (SQL generated for DuckDB) in its own venv; the json extension from duckdb-extension-json;
  helios     sof-cli of HeliosSoftware's helios-sof crate (the engine behind pysof), built with cargo.

Steps:
  1. generate the data with the project's generator (`fhirpulse generate`, local files), merged into one
     NDJSON file per resource type; every engine reads that same file for a view of that type;
  2. view sets: `full` = config/views/*.json as they are; `common` = the same views cut down to the columns
     every peer can run (each peer tried column by column on a 500-resource sample), when that differs;
  3. per view set and engine, one measured run in a process of its own (helios: one sof-cli per view), each
     view read from NDJSON, evaluated and written as NDJSON rows: wall seconds (process start to exit, incl.
     Spark's/Python's start-up), the engine's own seconds per view, rows/s, and the peak RSS of the process
     tree (psutil or /proc polled every 0.1 s, with wait4's maxrss as a floor; for Spark: Python + its JVM);
  4. every peer's rows against ours, column by column after normalising (rows sorted; decimals by value,
     dateTimes with an offset as UTC instants, booleans as true/false; a missing key is null);
  5. Markdown tables on stdout, JSON under .state/bench/ (peers-<time>.json).

The page cache is warmed (each input read once) before the first measured run, so no engine pays for a cold
read that the next one does not. The data is generated into a temporary folder, deleted at the end, unless
--data-dir names one (kept, and reused when it already holds the same --patients/--seed).
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
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import peers
from common import (
    REPO,
    RSS_SOURCE,
    PeakRSS,
    count_label,
    generate,
    markdown_table,
    patients_for,
    save_result,
    tree_cpu_seconds,
)
from common import parse_count as _parse_count

VIEWS_DIR = REPO / "config" / "views"
ENGINES = ("fhirpulse", "fhir4ds", "helios")
SAMPLE_RESOURCES = 500
TIMESTAMP_TYPES = {"dateTime", "instant"}
DECIMAL_TYPES = {"decimal"}
INTEGER_TYPES = {"integer", "positiveInt", "unsignedInt", "integer64"}


# --- measuring a child process ---------------------------------------------------------------------------------

def run_measured(cmd: list[str], stdout: Path, stderr: Path, env: dict[str, str] | None = None,
                 memory_limit_mb: int | None = None) -> dict[str, Any]:
    """Run `cmd` to completion: wall seconds, exit code, and its process tree's peak RSS (polled sum over the
    tree; at least the kernel's maxrss of the process itself). `memory_limit_mb` caps the process's address
    space (RLIMIT_AS), so an engine that holds everything in memory fails alone instead of swapping the machine
    into the OOM killer."""
    def limit() -> None:
        if memory_limit_mb:
            size = memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, preexec_fn=limit)
        with PeakRSS(proc.pid, interval=0.1) as rss:
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    maxrss_mb = round(usage.ru_maxrss / 1024)  # KiB on Linux
    figures = rss.figures()
    return {"seconds": round(seconds, 3), "returncode": proc.returncode,
            # user + system CPU of the process and the children it waited for: ÷ seconds = cores kept busy
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": max(figures["peak_rss_mb"], maxrss_mb),
            "peak_rss_largest_mb": max(figures["peak_rss_largest_mb"], maxrss_mb)}


def _last_json_line(path: Path) -> Any:
    for line in reversed(path.read_text(errors="replace").splitlines()):
        if line.startswith(("[", "{")):
            return json.loads(line)
    raise ValueError(f"no JSON result in {path}")


# --- our engine: the child process -------------------------------------------------------------------------------

def spark_child(plan_file: Path) -> None:
    """Run a plan with spark_jobs/sof in one local Spark session; print the per-view results as JSON."""
    started = time.perf_counter()
    from fhirpulse import deps
    from fhirpulse.core.config import load_config
    from spark_jobs.lake.session import plain_session
    from spark_jobs.sof import compile_view
    from spark_jobs.sof.sources import read_ndjson

    spark = plain_session(load_config("local").spark, "fhirpulse-peers-bench", deps.local_runtime(lakehouse=False))
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # the first job's one-off costs belong to start-up, not to the first view
    session_s = time.perf_counter() - started
    results = []
    for item in json.loads(plan_file.read_text()):
        view_started = time.perf_counter()
        try:
            compiled = compile_view(item["view"])
            frame = compiled.apply(read_ndjson(spark, item["input"], compiled.resource))
            # nulls kept as nulls (not dropped keys), like the peers' NDJSON
            frame.write.mode("overwrite").option("ignoreNullFields", "false").json(item["out"])
        except Exception as err:  # noqa: BLE001  (a view error is reported per view, as for the peers)
            results.append({"name": item["name"], "error": f"{type(err).__name__}: {str(err).splitlines()[0]}"})
            continue
        results.append({"name": item["name"], "seconds": round(time.perf_counter() - view_started, 3)})
    cpu_seconds = tree_cpu_seconds(os.getpid())  # with the JVM, before stop() ends it
    spark.stop()
    print(json.dumps({"session_seconds": round(session_s, 3), "cpu_seconds": round(cpu_seconds, 3),
                      "views": results}), flush=True)


# --- data ---------------------------------------------------------------------------------------------------------

def prepare_data(folder: Path, patients: int, seed: int) -> dict[str, Any]:
    """Generated NDJSON merged into <folder>/ndjson/<Type>.ndjson; reused when `folder` already has it."""
    marker = folder / "peers-data.json"
    if marker.exists():
        meta = json.loads(marker.read_text())
        if meta["patients"] == patients and meta["seed"] == seed:
            print(f"reusing data in {folder}", file=sys.stderr, flush=True)
            return meta
    raw = folder / "generated"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    print(f"generating {patients} patients (seed {seed}) into {raw}", file=sys.stderr, flush=True)
    figures = generate("local", patients, seed, str(raw))
    merged = folder / "ndjson"
    merged.mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for type_dir in sorted(p for p in raw.iterdir() if p.is_dir()):
        target = merged / f"{type_dir.name}.ndjson"
        count = 0
        with target.open("wb") as out:
            for source in sorted(type_dir.rglob("*.ndjson")):
                with source.open("rb") as lines:
                    for line in lines:
                        if line.strip():
                            out.write(line if line.endswith(b"\n") else line + b"\n")
                            count += 1
        counts[type_dir.name] = count
    shutil.rmtree(raw)
    meta = {"patients": patients, "seed": seed, "resources": sum(counts.values()), "by_type": counts,
            "generate_seconds": round(figures["seconds"], 1), "bytes": figures["bytes"]}
    marker.write_text(json.dumps(meta, indent=2))
    return meta


def warm_page_cache(files: list[Path]) -> None:
    for path in files:
        with path.open("rb") as f:
            while f.read(1 << 24):
                pass


def write_sample(source: Path, target: Path, n: int = SAMPLE_RESOURCES) -> Path:
    with source.open("rb") as src, target.open("wb") as out:
        for i, line in enumerate(src):
            if i >= n:
                break
            out.write(line)
    return target


# --- view sets ------------------------------------------------------------------------------------------------------

def load_views(names: list[str] | None) -> dict[str, dict]:
    files = sorted(VIEWS_DIR.glob("*.json"))
    views = {p.stem: json.loads(p.read_text()) for p in files}
    if names:
        unknown = set(names) - set(views)
        if unknown:
            raise SystemExit(f"unknown view(s) {sorted(unknown)}; config/views has {sorted(views)}")
        views = {n: views[n] for n in names}
    return views


def view_columns(view: dict) -> list[dict]:
    """The view's columns in output order (top-level selects with `column`; our views nest no further)."""
    return [c for s in view.get("select", []) for c in s.get("column", [])]


def cut_view(view: dict, keep: set[str]) -> dict:
    """The view with only the `keep` columns; a select left without columns is dropped."""
    selects = []
    for select in view.get("select", []):
        columns = [c for c in select.get("column", []) if c["name"] in keep]
        if columns:
            selects.append({**select, "column": columns})
    return {**view, "select": selects}


def probe_helios(binary: Path, view: dict, sample: Path, scratch: Path) -> dict[str, str | None]:
    """Per column: None when sof-cli runs a one-column copy of the view over the sample, else its error."""
    verdicts: dict[str, str | None] = {}
    for index, select in enumerate(view.get("select", [])):
        for column in select.get("column", []):
            single = {**view, "select": [{**{k: v for k, v in select.items() if k != "column"},
                                          "column": [column]}]}
            view_file = scratch / "probe-view.json"
            view_file.write_text(json.dumps(single))
            out = subprocess.run(peers.helios_command(binary, view_file, sample, scratch / "probe-out.ndjson"),
                                 capture_output=True, text=True)
            verdicts[column["name"]] = None if out.returncode == 0 else (
                f"select[{index}]: {(out.stderr.strip().splitlines() or ['exit ' + str(out.returncode)])[-1]}")
    return verdicts


def probe_fhir4ds(f4: peers.Fhir4ds, view: dict, sample: Path, scratch: Path) -> dict[str, str | None]:
    probe = scratch / "probe-fhir4ds.json"
    probe.write_text(json.dumps({"view": view, "sample": str(sample)}))
    out = subprocess.run([str(f4.python), str(Path(peers.__file__)), "--probe-fhir4ds", str(probe),
                          "--extension-directory", str(f4.extension_directory)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"fhir4ds probe failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- runs --------------------------------------------------------------------------------------------------------------

def _plan(view_set: dict[str, dict], inputs: dict[str, Path], out_dir: Path) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [{"name": name, "view": view, "input": str(inputs[view["resource"]]),
             "out": str(out_dir / f"{name}.ndjson")} for name, view in view_set.items()]


def count_rows(out: Path) -> int:
    files = sorted(out.glob("part-*")) if out.is_dir() else [out] if out.exists() else []
    total = 0
    for path in files:
        with path.open("rb") as f:
            total += sum(1 for line in f if line.strip())
    return total


def run_engine(engine: str, plan: list[dict], work: Path, tools: dict[str, Any],
               memory_limit_mb: int | None = None) -> dict[str, Any]:
    """One measured run of a view set by one engine; the native peer (helios, whose address space is its
    memory) runs under `memory_limit_mb`."""
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    plan_file = work / f"plan-{engine}.json"
    plan_file.write_text(json.dumps(plan))
    tag = f"{engine}-{plan_file.parent.name}"
    run: dict[str, Any] = {"engine": engine}
    if engine == "helios":
        views, seconds, peak, largest = [], 0.0, 0, 0
        for item in plan:
            view_file = work / f"view-{item['name']}.json"
            view_file.write_text(json.dumps(item["view"]))
            cmd = peers.helios_command(tools["helios"].binary, view_file, Path(item["input"]), Path(item["out"]))
            figures = run_measured(cmd, logs / f"{tag}-{item['name']}.out", logs / f"{tag}-{item['name']}.err",
                                   memory_limit_mb=memory_limit_mb)
            seconds += figures["seconds"]
            peak, largest = max(peak, figures["peak_rss_mb"]), max(largest, figures["peak_rss_largest_mb"])
            if figures["returncode"]:
                err = (logs / f"{tag}-{item['name']}.err").read_text(errors="replace").strip().splitlines()
                # Rust ends a panic or an allocation failure with notes about backtraces: name the cause
                cause = [line for line in err if "panicked" in line or "memory allocation" in line] or err
                views.append({"name": item["name"], "error": f"exit {figures['returncode']}: " + (
                    cause[0].strip() if cause else "no message")})
            else:
                views.append({"name": item["name"], "seconds": figures["seconds"],
                              "cpu_seconds": figures["cpu_seconds"], "peak_rss_mb": figures["peak_rss_mb"]})
        run |= {"seconds": round(seconds, 3), "cpu_seconds": round(sum(v.get("cpu_seconds", 0) for v in views), 3),
                "peak_rss_mb": peak, "peak_rss_largest_mb": largest,
                "views": views, "startup_seconds": 0.0}
    else:
        if engine == "fhirpulse":
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child-spark", str(plan_file)]
        else:
            cmd = [str(tools["fhir4ds"].python), str(Path(peers.__file__).resolve()), "--run-fhir4ds",
                   str(plan_file), "--extension-directory", str(tools["fhir4ds"].extension_directory)]
        out, err = logs / f"{tag}.out", logs / f"{tag}.err"
        figures = run_measured(cmd, out, err)
        if figures["returncode"]:
            tail = "\n".join(err.read_text(errors="replace").splitlines()[-15:])
            return run | {"error": f"exit {figures['returncode']}: {tail}"}
        reported = _last_json_line(out)
        views = reported["views"] if isinstance(reported, dict) else reported
        # Spark's JVM is a grandchild nobody waits for: our child measures its own tree's CPU
        cpu = reported.get("cpu_seconds", figures["cpu_seconds"]) if isinstance(reported, dict) else None
        run |= {"seconds": figures["seconds"], "cpu_seconds": cpu or figures["cpu_seconds"],
                "peak_rss_mb": figures["peak_rss_mb"],
                "peak_rss_largest_mb": figures["peak_rss_largest_mb"], "views": views}
        engine_s = sum(v.get("seconds", 0.0) for v in views)
        run["startup_seconds"] = round(figures["seconds"] - engine_s, 3)  # interpreter/JVM start, imports, exit
    for item, view in zip(plan, run["views"], strict=True):
        if "error" not in view:
            view["rows"] = count_rows(Path(item["out"]))
    ok = [v for v in run["views"] if "error" not in v]
    run["views_ok"] = len(ok)
    run["engine_seconds"] = round(sum(v["seconds"] for v in ok), 3)
    run["rows"] = sum(v["rows"] for v in ok)
    return run


# --- comparing outputs ------------------------------------------------------------------------------------------------

def _normalise(value: Any, fhir_type: str) -> str | None:
    if value is None or value == "":  # "" is not a FHIR value; an engine writing it means empty
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    if fhir_type == "boolean":
        return str(value).lower()
    if fhir_type in DECIMAL_TYPES or fhir_type in INTEGER_TYPES:
        try:
            number = Decimal(str(value)).normalize()
            return format(number + 0, "f")  # + 0 turns -0 into 0
        except InvalidOperation:
            return str(value)
    if fhir_type in TIMESTAMP_TYPES and isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).isoformat()
    return str(value)


def read_rows(out: Path, columns: list[dict]) -> list[tuple]:
    """The NDJSON rows under `out` (a file or Spark's folder of part files), normalised per column type."""
    return _read_rows(out, json.dumps(columns))


@lru_cache(maxsize=2)  # our rows of a view are read once for both peers (ours, then a peer, per call)
def _read_rows(out: Path, columns_json: str) -> list[tuple]:
    columns = json.loads(columns_json)
    files = sorted(out.glob("part-*")) if out.is_dir() else [out]
    rows = []
    for path in files:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    record = json.loads(line, parse_float=Decimal)
                    rows.append(tuple(_normalise(record.get(c["name"]), c.get("type", "string")) for c in columns))
    return rows


def _key_format(value: str | None) -> str | None:
    """'Patient/123' -> '123': getResourceKey()/getReferenceKey() values are opaque to the spec, and engines
    differ in whether they keep the type."""
    return value.rsplit("/", 1)[-1] if value else value


def _is_key_column(column: dict) -> bool:
    return "getResourceKey()" in column.get("path", "") or "getReferenceKey(" in column.get("path", "")


def compare(ours: Path, theirs: Path, view: dict) -> dict[str, Any]:
    """Our rows vs a peer's. Rows sorted and compared whole; then per column, the multiset of (row key, value)
    pairs on each side, the row key being the first column (the resource key) without any 'Type/' prefix.
    A key column that differs only by that prefix is listed under key_format_columns, not as differing."""
    columns = view_columns(view)
    keys = [i for i, c in enumerate(columns) if _is_key_column(c)]
    a, b = read_rows(ours, columns), read_rows(theirs, columns)
    result: dict[str, Any] = {"rows_ours": len(a), "rows_theirs": len(b)}
    order = lambda row: tuple("" if v is None else v for v in row)  # noqa: E731

    def unkeyed(rows: list[tuple]) -> list[tuple]:
        return sorted((tuple(_key_format(v) if i in keys else v for i, v in enumerate(r)) for r in rows), key=order)

    result["equal"] = sorted(a, key=order) == sorted(b, key=order)
    result["equal_up_to_key_format"] = result["equal"] or unkeyed(a) == unkeyed(b)
    differing: dict[str, Any] = {}
    key_format: dict[str, Any] = {}
    if not result["equal"]:
        for i, column in enumerate(columns):
            left = Counter((_key_format(row[0]), row[i]) for row in a)
            right = Counter((_key_format(row[0]), row[i]) for row in b)
            if left == right:
                continue
            only = (left - right) + (right - left)
            example_key = min((k or "" for k, _ in only))
            example = {"key": example_key,
                       "ours": sorted((v for k, v in left.elements() if (k or "") == example_key),
                                      key=lambda v: v or "")[:3],
                       "theirs": sorted((v for k, v in right.elements() if (k or "") == example_key),
                                        key=lambda v: v or "")[:3]}
            if i in keys and Counter((k, _key_format(v)) for (k, v) in left.elements()) == Counter(
                    (k, _key_format(v)) for (k, v) in right.elements()):
                key_format[column["name"]] = example
            else:
                differing[column["name"]] = {"rows": sum(only.values()), "example": example}
    return result | {"differing_columns": differing, "key_format_columns": key_format}


# --- report -----------------------------------------------------------------------------------------------------------

def _fmt_s(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _short(values: list, width: int = 60) -> str:
    text = json.dumps(values, default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


def report(result: dict[str, Any]) -> str:
    resources = result["data"]["resources"]
    out = [f"### {resources:,} resources ({result['data']['patients']} patients), {os.cpu_count()} cores\n"]
    versions = result["versions"]
    described = [f"fhirpulse = {versions['fhirpulse']}"]
    if "fhir4ds" in versions:
        described.append(f"fhir4ds = fhir4ds {versions['fhir4ds']['fhir4ds']} on duckdb {versions['fhir4ds']['duckdb']}")
    if "helios" in versions:
        described.append(f"helios = {versions['helios']['crate']} {versions['helios']['version']} (sof-cli)")
    out.append("Engines: " + "; ".join(described) + ".\n")
    header = ["engine", "view set", "views run", "input resources", "rows out", "wall s", "engine s",
              "resources/s (wall)", "rows/s (wall)", "CPU s (cores busy)", "peak RSS MB"]
    rows = []
    for set_name, runs in result["runs"].items():
        for run in runs:
            if "error" in run:
                rows.append([run["engine"], set_name, "failed", "", "", "", "", "", "", "", ""])
                continue
            inputs = sum(result["data"]["by_type"].get(result["view_sets"][set_name]["views"][v["name"]], 0)
                         for v in run["views"] if "error" not in v)
            total = len(run["views"])
            rows.append([run["engine"], set_name, f"{run['views_ok']}/{total}", f"{inputs:,}", f"{run['rows']:,}",
                         _fmt_s(run["seconds"]), _fmt_s(run["engine_seconds"]),
                         f"{inputs / run['seconds']:,.0f}", f"{run['rows'] / run['seconds']:,.0f}",
                         f"{run['cpu_seconds']:,.1f} ({run['cpu_seconds'] / run['seconds']:.2f})",
                         f"{run['peak_rss_mb']:,}"])
    out.append(markdown_table(header, rows))
    out.append("\nPer view, engine seconds (the engine's own time: read + evaluate + write; fhir4ds's includes "
               "loading the NDJSON into DuckDB):\n")
    for set_name, runs in result["runs"].items():
        names = list(result["view_sets"][set_name]["views"])
        per_view = []
        for name in names:
            cells = [set_name, name]
            for run in runs:
                view = next((v for v in run.get("views", []) if v["name"] == name), None)
                cells.append("failed" if view is None or "error" in view
                             else f"{_fmt_s(view['seconds'])} ({view['rows']:,} rows)")
            per_view.append(cells)
        out.append(markdown_table(["view set", "view", *[r["engine"] for r in runs]], per_view))
        out.append("")
    out.append("Equality with our rows (sorted, normalised; differing columns with an example):\n")
    eq_rows = []
    for set_name, by_view in result["equality"].items():
        for name, by_peer in by_view.items():
            for peer, cmp in by_peer.items():
                if "error" in cmp:
                    eq_rows.append([set_name, name, peer, "—", cmp["error"][:120]])
                    continue
                diffs = "; ".join(
                    f"`{col}` ({d['rows']:,} rows; e.g. {d['example']['key']}: "
                    f"ours {_short(d['example']['ours'])} vs {_short(d['example']['theirs'])})"
                    for col, d in cmp["differing_columns"].items())
                if cmp["equal"]:
                    verdict = "yes"
                elif cmp["equal_up_to_key_format"]:
                    verdict = "yes, up to key format"
                else:
                    verdict = f"no ({cmp['rows_ours']:,} vs {cmp['rows_theirs']:,} rows)"
                keyed = ", ".join(f"`{c}`" for c in cmp["key_format_columns"])
                if keyed:
                    example = next(iter(cmp["key_format_columns"].values()))
                    keyed = (f"key format only: {keyed} (e.g. ours {_short(example['ours'])} vs "
                             f"{_short(example['theirs'])})")
                eq_rows.append([set_name, name, peer, verdict, "; ".join(x for x in (diffs, keyed) if x)])
    out.append(markdown_table(["view set", "view", "peer", "equal", "differing columns"], eq_rows))
    dropped = result["view_sets"].get("common", {}).get("dropped", {})
    if dropped:
        out.append("\nColumns left out of the `common` view set (a peer could not run them):\n")
        for name, cols in dropped.items():
            for col, why in cols.items():
                out.append(f"- {name}.{col}: " + "; ".join(f"{p}: {w}" for p, w in why.items()))
    unavailable = result.get("unavailable", {})
    for peer, why in unavailable.items():
        out.append(f"\n**{peer} unavailable**: {why}")
    return "\n".join(out)


# --- main -------------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--patients", type=int, help="Patients to generate (~158 resources each).")
    size.add_argument("--resources", type=_parse_count, help="Approximate resources instead: 20k, 200k, 1M.")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--views", nargs="*", help="View names from config/views (default: all).")
    parser.add_argument("--engines", default=",".join(ENGINES), help="Comma-separated subset of "
                                                                     f"{','.join(ENGINES)}.")
    parser.add_argument("--data-dir", type=Path, help="Keep the generated data here (reused when it matches).")
    parser.add_argument("--no-install", action="store_true", help="Use cached peers only; never build/install.")
    parser.add_argument("--jobs", type=int, default=2, help="cargo -j for a first helios build (default 2).")
    parser.add_argument("--memory-limit-mb", type=int, default=16_384,
                        help="Address-space cap of each helios process (default 16384; 0: none).")
    parser.add_argument("--keep-outputs", action="store_true", help="Keep the engines' output rows.")
    parser.add_argument("--child-spark", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_spark:
        spark_child(args.child_spark)
        return
    patients = args.patients or patients_for(args.resources or 20_000)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "fhirpulse" not in engines or set(engines) - set(ENGINES):
        raise SystemExit(f"--engines: fhirpulse plus any of {ENGINES[1:]}")

    tools: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for peer, ensure in (("fhir4ds", lambda: peers.ensure_fhir4ds(install=not args.no_install)),
                         ("helios", lambda: peers.ensure_helios(jobs=args.jobs, install=not args.no_install))):
        if peer in engines:
            try:
                tools[peer] = ensure()
            except peers.PeerUnavailable as err:
                unavailable[peer] = str(err)
                print(f"{peer} unavailable: {err}", file=sys.stderr, flush=True)
    engines = [e for e in engines if e == "fhirpulse" or e in tools]

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fhirpulse-peers-data-"))
    work = Path(tempfile.mkdtemp(prefix="fhirpulse-peers-work-"))
    try:
        data = prepare_data(data_dir, patients, args.seed)
        views = load_views(args.views)
        inputs = {t: data_dir / "ndjson" / f"{t}.ndjson" for t in data["by_type"]}
        missing = {v["resource"] for v in views.values()} - set(inputs)
        if missing:
            raise SystemExit(f"the generator wrote no {sorted(missing)}")

        # view sets: full, and the columns every peer runs
        view_sets: dict[str, dict[str, Any]] = {"full": {"views": {n: v["resource"] for n, v in views.items()},
                                                        "definitions": views}}
        dropped: dict[str, dict[str, dict[str, str]]] = {}
        common_defs: dict[str, dict] = {}
        for name, view in views.items():
            sample = write_sample(inputs[view["resource"]], work / f"sample-{view['resource']}.ndjson")
            verdicts: dict[str, dict[str, str | None]] = {}
            if "fhir4ds" in tools:
                verdicts["fhir4ds"] = probe_fhir4ds(tools["fhir4ds"], view, sample, work)
            if "helios" in tools:
                verdicts["helios"] = probe_helios(tools["helios"].binary, view, sample, work)
            bad = {c["name"]: {p: v[c["name"]] for p, v in verdicts.items() if v.get(c["name"])}
                   for c in view_columns(view)}
            bad = {c: why for c, why in bad.items() if why}
            if bad:
                dropped[name] = bad
            keep = {c["name"] for c in view_columns(view)} - set(bad)
            if keep:
                common_defs[name] = cut_view(view, keep)
        if dropped:
            view_sets["common"] = {"views": {n: v["resource"] for n, v in common_defs.items()},
                                   "definitions": common_defs, "dropped": dropped}

        warm_page_cache(list(inputs.values()))
        runs: dict[str, list[dict]] = {}
        equality: dict[str, dict[str, dict[str, Any]]] = {}
        for set_name, view_set in view_sets.items():
            runs[set_name] = []
            for engine in engines:
                print(f"running {engine} on view set {set_name} ({len(view_set['definitions'])} views)",
                      file=sys.stderr, flush=True)
                plan = _plan(view_set["definitions"], inputs, work / set_name / "out" / engine)
                run = run_engine(engine, plan, work / set_name, tools, args.memory_limit_mb or None)
                runs[set_name].append(run)
                if "error" in run:
                    print(f"  {engine} failed: {run['error']}", file=sys.stderr, flush=True)
            equality[set_name] = {}
            for name, view in view_set["definitions"].items():
                equality[set_name][name] = {}
                ours_run = runs[set_name][0]
                ours_view = next((v for v in ours_run.get("views", []) if v["name"] == name), {"error": "no run"})
                for run in runs[set_name][1:]:
                    theirs = next((v for v in run.get("views", []) if v["name"] == name), {"error": "no run"})
                    if "error" in ours_view or "error" in theirs:
                        equality[set_name][name][run["engine"]] = {
                            "error": f"not compared: {theirs.get('error') or ours_view.get('error')}"}
                        continue
                    out = work / set_name / "out"
                    equality[set_name][name][run["engine"]] = compare(
                        out / "fhirpulse" / f"{name}.ndjson", out / run["engine"] / f"{name}.ndjson", view)
        if args.keep_outputs:
            print(f"outputs kept in {work}", file=sys.stderr)
    finally:
        if not args.keep_outputs:
            shutil.rmtree(work, ignore_errors=True)
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    versions = {"fhirpulse": f"spark_jobs/sof (pyspark {_pyspark_version()}, master local[2])"}
    if "fhir4ds" in tools:
        versions["fhir4ds"] = tools["fhir4ds"].versions
    if "helios" in tools:
        versions["helios"] = {"crate": peers.HELIOS_CRATE, "version": tools["helios"].version,
                              "binary": str(tools["helios"].binary)}
    result = {
        "data": data, "size_label": count_label(data["resources"]), "engines": engines, "versions": versions,
        "rss_source": RSS_SOURCE, "unavailable": unavailable, "helios_memory_limit_mb": args.memory_limit_mb or None,
        "view_sets": {k: {kk: vv for kk, vv in v.items() if kk != "definitions"} for k, v in view_sets.items()},
        "runs": runs, "equality": equality,
    }
    print(report(result))
    save_result("peers", result)


def _pyspark_version() -> str:
    try:
        import pyspark

        return pyspark.__version__
    except ImportError:  # pragma: no cover
        return "?"


if __name__ == "__main__":
    main()
