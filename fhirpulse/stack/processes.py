"""Start, probe and stop the embedded stack's processes: moto server, Trino 476 and, when asked, a Spark
standalone cluster (a master and N workers of the installed pyspark).

All bind to 127.0.0.1 on free ports, run in their own process groups (so `down` stops every child) and log
into the state directory. Nothing here knows about AWS resources; see provision.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from fhirpulse import deps
from fhirpulse.core.config import Config
from fhirpulse.stack.trino_files import render_trino_etc, write_trino_etc


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
    return proc.pid


def stop_process_group(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.2)


def _http_ok(url: str, timeout: float = 2.0) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read() if resp.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def _wait_for(check, what: str, pid: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not pid_alive(pid):
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise StackError(f"{what} exited during start-up; last log lines ({log}):\n{tail}")
        time.sleep(0.5)
    raise StackError(f"{what} not healthy after {timeout:.0f}s; see {log}")


# ---------------------------------------------------------------------------------------------- moto
def start_moto(workdir: Path, port: int | None = None, recording: Path | None = None) -> tuple[int, int]:
    """A moto server on 127.0.0.1 (`port`, or a free one). With `recording`, it appends every request it
    serves to that file (moto's recorder), so a restarted server can replay it and come back with its state."""
    port = port or free_port()
    log = workdir / "moto.log"
    moto = Path(sys.executable).with_name("moto_server")
    cmd = [str(moto) if moto.exists() else "moto_server", "-H", "127.0.0.1", "-p", str(port)]
    env = None if recording is None else dict(os.environ) | {"MOTO_ENABLE_RECORDING": "True",
                                                               "MOTO_RECORDER_FILEPATH": str(recording)}
    pid = _spawn(cmd, log, env)
    _wait_for(lambda: _http_ok(f"http://127.0.0.1:{port}/moto-api/data.json") is not None, "moto server", pid,
              log, 60)
    return pid, port


# ---------------------------------------------------------------------------------------------- Trino
def _trino_etc(cfg: Config, workdir: Path, port: int, home: Path) -> Path:
    """trino/etc/* and trino/catalog/* (the files compose renders too), filled for the embedded node."""
    etc = workdir / "trino" / "etc"
    shutil.rmtree(etc, ignore_errors=True)
    data = workdir / "trino" / "data"
    data.mkdir(parents=True, exist_ok=True)
    files = render_trino_etc(cfg, "embedded", port=port, plugin_dir=home / "plugin", catalog_dir=etc / "catalog",
                             data_dir=data)
    return write_trino_etc(files, etc, cfg.trino)


def _properties(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _jvm_options(etc: Path) -> list[str]:
    """jvm.config, plus node.properties as system properties (what Trino's own launcher does)."""
    return [*_properties(etc / "jvm.config"), *(f"-D{line}" for line in _properties(etc / "node.properties"))]


def start_trino(cfg: Config, workdir: Path, aws_endpoint: str) -> tuple[int, int]:
    home = deps.trino_home()
    jdk = deps.trino_jdk()
    port = free_port()
    etc = _trino_etc(cfg, workdir, port, home)
    env = os.environ | {
        "FHIRPULSE_AWS_ENDPOINT": aws_endpoint,
        "FHIRPULSE_GLUE_ENDPOINT": cfg.aws.service_endpoints.get("glue", aws_endpoint),
        "FHIRPULSE_AWS_REGION": cfg.region,
        "FHIRPULSE_AWS_ACCESS_KEY_ID": cfg.aws.access_key_id or "",
        "FHIRPULSE_AWS_SECRET_ACCESS_KEY": cfg.aws.secret_access_key or "",
        "JAVA_HOME": str(jdk.home),
    }
    cmd = [str(jdk.java), *_jvm_options(etc), f"-Dconfig={etc / 'config.properties'}",
           f"-Dlog.levels-file={etc / 'log.properties'}",
           "-cp", str(home / "lib" / "*"), "io.trino.server.TrinoServer"]
    log = workdir / "trino.log"
    pid = _spawn(cmd, log, env=env, cwd=workdir / "trino")

    def healthy() -> bool:
        body = _http_ok(f"http://127.0.0.1:{port}/v1/info")
        return body is not None and b'"starting":false' in body.replace(b" ", b"")

    _wait_for(healthy, f"Trino (JDK {jdk.major})", pid, log, 240)
    return pid, port


# --------------------------------------------------------------------------------------- Spark cluster
@dataclass(frozen=True)
class SparkCluster:
    master_url: str  # spark://127.0.0.1:port
    ui_url: str
    pids: dict[str, int]  # spark-master, spark-worker-1 … (start order)
    ports: dict[str, int]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _spark_env(workdir: Path) -> dict[str, str]:
    return os.environ | {
        "JAVA_HOME": str(deps.spark_jdk().home),
        "SPARK_HOME": str(_spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",  # RPC and web UIs on loopback only
        "SPARK_LOG_DIR": str(workdir / "spark-logs"),
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,
    }


def _alive_workers(ui_url: str) -> int:
    body = _http_ok(f"{ui_url}/json/")
    return json.loads(body).get("aliveworkers", 0) if body else 0


def start_spark_cluster(workdir: Path, workers: int, cores: int, memory: str) -> SparkCluster:
    """A Spark standalone master and `workers` workers of the installed pyspark, on 127.0.0.1; returns once
    every worker has registered. Each worker offers `cores` cores and `memory` for executors."""
    spark_class = str(_spark_home() / "bin" / "spark-class")
    env = _spark_env(workdir)
    port, ui_port = free_port(), free_port()
    master_log = workdir / "spark-master.log"
    pids = {"spark-master": _spawn([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                    "--port", str(port), "--webui-port", str(ui_port)], master_log, env=env)}
    ports = {"spark-master": port, "spark-master-ui": ui_port}
    ui_url, master_url = f"http://127.0.0.1:{ui_port}", f"spark://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _http_ok(f"{ui_url}/json/") is not None, "Spark master", pids["spark-master"],
                  master_log, 120)
        for n in range(1, workers + 1):
            name = f"spark-worker-{n}"
            work = workdir / name
            work.mkdir(parents=True, exist_ok=True)
            worker_port = free_port()
            pids[name] = _spawn([spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                 "--port", str(worker_port), "--webui-port", str(free_port()), "--cores", str(cores),
                                 "--memory", memory, "--work-dir", str(work), master_url],
                                workdir / f"{name}.log", env=env)
            ports[name] = worker_port
        _wait_for(lambda: _alive_workers(ui_url) >= workers, f"Spark cluster ({workers} workers; logs: "
                  f"{workdir}/spark-worker-*.log)", pids["spark-master"], master_log, 120)
    except BaseException:
        for pid in reversed(pids.values()):
            stop_process_group(pid)
        raise
    return SparkCluster(master_url, ui_url, pids, ports)
