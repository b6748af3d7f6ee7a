"""Peer SQL-on-FHIR engines for `bench/peers_bench.py`, installed outside the project venv and cached.

    .venv/bin/python bench/peers.py            # install/build both peers (idempotent), print what is there
    .venv/bin/python bench/peers.py --check    # only report what is cached; installs nothing

Everything lives under $FHIRPULSE_PEERS_DIR (default ~/.cache/fhirpulse/peers/), never in the repo:
- `fhir4ds-venv/`: fhir4ds (DuckDB-based) in its own venv, because its dependencies may clash with ours,
  plus the json extension from the PyPI package duckdb-extension-json (fhir4ds runs `INSTALL json`, which
  would download it from the DuckDB extension site, unreachable here). The extension's file is copied into
  `duckdb-extensions/` laid out as DuckDB's extension directory
  (`<version>/<platform>/json.duckdb_extension`), so `SET extension_directory` makes INSTALL a no-op
  and LOAD find it offline.
- `helios/`: the Rust engine behind `pysof` (HeliosSoftware's crate helios-sof, binary `sof-cli`), built
  from crates.io with `cargo install --locked` (pysof's wheels need glibc >= 2.38; Debian 12 has 2.36).
  The build is niced and limited to `jobs` parallel jobs; its log is `helios/build.log` and its target
  directory `helios/target/` is kept so an interrupted build resumes.

Each `ensure_*` returns quickly when the pinned version is already there, and raises PeerUnavailable with
the reason (and the log's tail) when it cannot be installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# --- pins ----------------------------------------------------------------------------------------------------

FHIR4DS_VERSION = "0.5.1"
# The json extension must be the build for the very same DuckDB version. 1.3.2 is the DuckDB of fhir4ds
# 0.5.1's release (July 2025); fhir4ds itself only asks for duckdb>=0.8.
DUCKDB_VERSION = "1.3.2"
# The rest of fhir4ds's dependency tree, as resolved and tested here (installed with these as constraints).
FHIR4DS_CONSTRAINTS = (
    "numpy==2.4.6", "pandas==3.1.1", "psycopg2-binary==2.9.13", "pytest==9.2.0", "python-dateutil==4.0.0",
    "typing_extensions==4.16.0", "tzdata==2026.6", "iniconfig==2.3.1", "packaging==26.4", "pluggy==1.7.0",
    "Pygments==2.21.0", "wheel==0.48.0",
)
HELIOS_CRATE = "helios-sof"
HELIOS_VERSION = "0.2.7"
HELIOS_BIN = "sof-cli"

PEERS_DIR_VAR = "FHIRPULSE_PEERS_DIR"


class PeerUnavailable(RuntimeError):
    """A peer engine could not be installed or built here; the message says why."""


def peers_dir() -> Path:
    return Path(os.environ.get(PEERS_DIR_VAR) or Path.home() / ".cache" / "fhirpulse" / "peers")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run_logged(cmd: list[str], log: Path, env: dict[str, str] | None = None, what: str = "") -> None:
    """Run `cmd` with its output appended to `log`; PeerUnavailable with the log's tail when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        try:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
        except FileNotFoundError as err:
            raise PeerUnavailable(f"{what or cmd[0]}: {err}") from None
    if code:
        raise PeerUnavailable(f"{what or cmd[0]} failed (exit {code}); last lines of {log}:\n{_tail(log)}")


# --- helios-sof (Rust) -----------------------------------------------------------------------------------------

@dataclass
class Helios:
    binary: Path
    version: str
    built_now: bool = False
    build_seconds: float | None = None


def helios_root() -> Path:
    return peers_dir() / "helios"


def _cargo() -> str:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        raise PeerUnavailable("helios-sof: cargo not found (PATH or ~/.cargo/bin)")
    return cargo


def _binary_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split()[-1] if out.returncode == 0 and out.stdout.split() else None


def ensure_helios(jobs: int = 2, niceness: int = 10, install: bool = True) -> Helios:
    """sof-cli of helios-sof HELIOS_VERSION under helios_root()/bin, building it when missing."""
    root = helios_root()
    binary = root / "bin" / HELIOS_BIN
    if binary.exists() and _binary_version(binary) == HELIOS_VERSION:
        return Helios(binary, HELIOS_VERSION)
    if not install:
        raise PeerUnavailable(f"helios-sof {HELIOS_VERSION}: not built yet ({binary} missing); "
                              f"run .venv/bin/python bench/peers.py")
    cmd = ["nice", "-n", str(niceness), _cargo(), "install", HELIOS_CRATE, "--version", f"={HELIOS_VERSION}",
           "--locked", "--root", str(root), "--bin", HELIOS_BIN, "-j", str(jobs), "--force"]
    env = {**os.environ, "CARGO_TARGET_DIR": str(root / "target")}
    print(f"building {HELIOS_CRATE} {HELIOS_VERSION} ({HELIOS_BIN}) with cargo -j {jobs}, nice {niceness}; "
          f"log: {root / 'build.log'} (a first build takes tens of minutes)", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _run_logged(cmd, root / "build.log", env, f"cargo install {HELIOS_CRATE} {HELIOS_VERSION}")
    seconds = time.perf_counter() - started
    version = _binary_version(binary)
    if version != HELIOS_VERSION:
        raise PeerUnavailable(f"helios-sof: built {binary} but `--version` says {version!r}, "
                              f"expected {HELIOS_VERSION}")
    return Helios(binary, version, built_now=True, build_seconds=round(seconds, 1))


# --- fhir4ds (Python + DuckDB) ---------------------------------------------------------------------------------

@dataclass
class Fhir4ds:
    python: Path
    extension_directory: Path
    versions: dict[str, str] = field(default_factory=dict)
    installed_now: bool = False


def fhir4ds_venv() -> Path:
    return peers_dir() / "fhir4ds-venv"


def _fhir4ds_pins() -> dict[str, str]:
    return {"fhir4ds": FHIR4DS_VERSION, "duckdb": DUCKDB_VERSION, "duckdb-extension-json": DUCKDB_VERSION,
            "constraints": ",".join(FHIR4DS_CONSTRAINTS)}


def _probe_duckdb(python: Path) -> tuple[str, str, Path]:
    """(DuckDB version, platform, the json extension file that duckdb-extension-json ships) in that venv."""
    code = ("import duckdb, json, duckdb_extension_json as e, pathlib; "
            "v = duckdb.__version__; p = duckdb.connect().execute('PRAGMA platform').fetchone()[0]; "
            "f = pathlib.Path(e.__file__).parent / 'extensions' / ('v' + v) / 'json.duckdb_extension'; "
            "print(json.dumps([v, p, str(f)]))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise PeerUnavailable(f"fhir4ds venv {python.parent.parent}: cannot import duckdb / "
                              f"duckdb_extension_json:\n{out.stderr[-2000:]}")
    version, platform, ext = json.loads(out.stdout)
    if not Path(ext).is_file():
        raise PeerUnavailable(f"duckdb-extension-json {DUCKDB_VERSION} has no {ext} "
                              f"(the package's layout changed?)")
    return version, platform, Path(ext)


def _install_json_extension(python: Path) -> Path:
    """Lay the packaged json extension out as a DuckDB extension directory, and check that a connection
    using it runs fhir4ds's `INSTALL json; LOAD json;` without any network."""
    version, platform, ext = _probe_duckdb(python)
    directory = peers_dir() / "duckdb-extensions"
    target = directory / f"v{version}" / platform / "json.duckdb_extension"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != ext.stat().st_size:
        shutil.copyfile(ext, target)
    check = (f"import duckdb; c = duckdb.connect(config={{'extension_directory': {str(directory)!r}}}); "
             "c.execute('INSTALL json; LOAD json;'); print(c.execute(\"SELECT json_extract_string('{\\\"a\\\": 1}', "
             "'$.a')\").fetchone()[0])")
    out = subprocess.run([str(python), "-c", check], capture_output=True, text=True, timeout=120)
    if out.returncode or out.stdout.strip() != "1":
        raise PeerUnavailable(f"DuckDB {version} does not take the json extension from {directory}:\n"
                              f"{out.stderr[-2000:]}")
    return directory


def ensure_fhir4ds(install: bool = True) -> Fhir4ds:
    """fhir4ds FHIR4DS_VERSION in its own venv, with DuckDB's json extension available offline."""
    venv = fhir4ds_venv()
    python = venv / "bin" / "python"
    marker = venv / "fhirpulse-peer.json"
    pins = _fhir4ds_pins()
    directory = peers_dir() / "duckdb-extensions"
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == pins:
        return Fhir4ds(python, directory, {k: v for k, v in pins.items() if k != "constraints"})
    if not install:
        raise PeerUnavailable(f"fhir4ds {FHIR4DS_VERSION}: not installed yet ({venv}); "
                              f"run .venv/bin/python bench/peers.py")
    log = peers_dir() / "fhir4ds-install.log"
    base = getattr(sys, "_base_executable", None) or sys.executable
    print(f"installing fhir4ds {FHIR4DS_VERSION} + duckdb {DUCKDB_VERSION} into {venv}; log: {log}",
          file=sys.stderr, flush=True)
    if not python.exists():
        _run_logged([base, "-m", "venv", str(venv)], log, what="python -m venv")
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(FHIR4DS_CONSTRAINTS) + "\n")
    _run_logged([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-c", str(constraints),
                 f"fhir4ds=={FHIR4DS_VERSION}", f"duckdb=={DUCKDB_VERSION}",
                 f"duckdb-extension-json=={DUCKDB_VERSION}"], log, what="pip install fhir4ds")
    directory = _install_json_extension(python)
    marker.write_text(json.dumps(pins, indent=2))
    return Fhir4ds(python, directory, {k: v for k, v in pins.items() if k != "constraints"}, installed_now=True)


# --- running a view set (each in its own process, so that its peak RSS is its own) -----------------------------
# A plan is a JSON list of {"name", "view" (a ViewDefinition object), "input" (one NDJSON file), "out"}; each
# runner writes every view's rows as NDJSON to "out" and reports {"name", "seconds", "rows", ...} per view,
# or {"name", "error"} for a view it could not run.

def helios_command(binary: Path, view_file: Path, source: Path, out: Path) -> list[str]:
    """sof-cli over one NDJSON file (streamed in chunks) to NDJSON rows."""
    return [str(binary), "--view", str(view_file), "--source", str(source), "--format", "ndjson",
            "--output", str(out), "--fhir-version", "R4"]


def _offline_duckdb(extension_directory: str) -> None:
    """Every DuckDB connection of this process gets the local extension directory: fhir4ds opens more than
    the one handed to it (each SQLGenerator without a dialect makes its own DuckDBDialect), and each runs
    `INSTALL json`, which would otherwise try to download."""
    import duckdb

    connect = duckdb.connect

    def offline_connect(database=":memory:", read_only=False, config=None, **kwargs):
        config = {"extension_directory": extension_directory, **(config or {})}
        return connect(database, read_only=read_only, config=config, **kwargs)

    duckdb.connect = offline_connect


def fhir4ds_view_sql(view: dict, connection) -> str:
    """The SQL fhir4ds generates for a ViewDefinition over its `fhir_resources(resource JSON)` table."""
    from fhir4ds.datastore import FHIRDataStore
    from fhir4ds.dialects import DuckDBDialect
    from fhir4ds.view_runner import ViewRunner

    store = FHIRDataStore(dialect=DuckDBDialect(connection=connection), initialize_table=False)
    return ViewRunner(store).execute_view_definition(view).sql


def run_fhir4ds_plan(plan: list[dict], extension_directory: str) -> list[dict]:
    """Inside the fhir4ds venv: per view, load its NDJSON into fhir4ds's table with DuckDB's own NDJSON reader
    (fhir4ds's loaders take JSON arrays/Bundles only), then run the SQL fhir4ds generates with COPY … TO
    NDJSON. Both steps are timed; the table is emptied between views."""
    import logging

    logging.disable(logging.CRITICAL)  # fhir4ds logs every generated SQL statement and each fallback
    _offline_duckdb(extension_directory)
    import duckdb
    from fhir4ds.datastore import FHIRDataStore
    from fhir4ds.dialects import DuckDBDialect

    connection = duckdb.connect()
    store = FHIRDataStore(dialect=DuckDBDialect(connection=connection))  # creates fhir_resources
    table, column = store.table_name, store.json_col
    results = []
    for item in plan:
        connection.execute(f"DELETE FROM {table}")
        started = time.perf_counter()
        try:
            connection.execute(f"INSERT INTO {table} ({column}) SELECT json FROM read_json_objects(?, "
                               "format = 'newline_delimited', maximum_object_size = 268435456)", [item["input"]])
            loaded = time.perf_counter()
            sql = fhir4ds_view_sql(item["view"], connection)
            out = str(item["out"]).replace("'", "''")
            connection.execute(f"COPY ({sql}) TO '{out}' (FORMAT json)")
        except Exception as err:  # noqa: BLE001  (a view the peer cannot run is a result, not a crash)
            results.append({"name": item["name"], "error": f"{type(err).__name__}: {str(err).splitlines()[0]}"})
            continue
        done = time.perf_counter()
        with open(item["out"], "rb") as rows:
            count = sum(1 for line in rows if line.strip())
        results.append({"name": item["name"], "seconds": round(done - started, 3),
                        "load_seconds": round(loaded - started, 3), "rows": count})
    return results


def fhir4ds_columns_runnable(view: dict, sample: str, extension_directory: str) -> dict[str, str | None]:
    """Inside the fhir4ds venv: for each column of `view`, None when fhir4ds runs a one-column copy of the
    view (same select/forEach context) over the NDJSON `sample`, else its error. Says which columns a
    reduced, common view can keep."""
    import logging

    logging.disable(logging.CRITICAL)
    _offline_duckdb(extension_directory)
    import duckdb
    from fhir4ds.datastore import FHIRDataStore
    from fhir4ds.dialects import DuckDBDialect

    connection = duckdb.connect()
    store = FHIRDataStore(dialect=DuckDBDialect(connection=connection))
    connection.execute(f"INSERT INTO {store.table_name} ({store.json_col}) SELECT json FROM "
                       "read_json_objects(?, format = 'newline_delimited')", [sample])
    verdicts: dict[str, str | None] = {}
    for index, select in enumerate(view.get("select", [])):
        for column in select.get("column", []):
            single = {**view, "select": [{**{k: v for k, v in select.items() if k != "column"},
                                          "column": [column]}]}
            try:
                connection.execute(fhir4ds_view_sql(single, connection)).fetchall()
                verdicts[column["name"]] = None
            except Exception as err:  # noqa: BLE001
                verdicts[column["name"]] = f"select[{index}]: {type(err).__name__}: {str(err).splitlines()[0]}"
    return verdicts


# --- command line --------------------------------------------------------------------------------------------

def _status(install: bool, jobs: int) -> dict:
    status: dict = {"peers_dir": str(peers_dir())}
    for name, ensure in (("fhir4ds", lambda: asdict(ensure_fhir4ds(install))),
                         ("helios", lambda: asdict(ensure_helios(jobs=jobs, install=install)))):
        try:
            status[name] = ensure()
        except PeerUnavailable as err:
            status[name] = {"unavailable": str(err)}
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="Report what is cached; install nothing.")
    parser.add_argument("--jobs", type=int, default=2, help="cargo build jobs (default 2).")
    # Internal: the bench runs these with the fhir4ds venv's python.
    parser.add_argument("--run-fhir4ds", metavar="PLAN", help=argparse.SUPPRESS)
    parser.add_argument("--probe-fhir4ds", metavar="PLAN", help=argparse.SUPPRESS)
    parser.add_argument("--extension-directory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_fhir4ds:
        plan = json.loads(Path(args.run_fhir4ds).read_text())
        print(json.dumps(run_fhir4ds_plan(plan, args.extension_directory)))
    elif args.probe_fhir4ds:
        probe = json.loads(Path(args.probe_fhir4ds).read_text())
        print(json.dumps(fhir4ds_columns_runnable(probe["view"], probe["sample"], args.extension_directory)))
    else:
        print(json.dumps(_status(not args.check, args.jobs), indent=2, default=str))


if __name__ == "__main__":
    main()
