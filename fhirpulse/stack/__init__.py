"""The embedded stack: moto server as the AWS API, Trino 476 on the Glue catalog, resources from config, and
optionally a Spark standalone cluster for the jobs (`spark.master: "stack"`)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from fhirpulse.core.aws import STACK_ENDPOINT
from fhirpulse.core.config import Config, ConfigError
from fhirpulse.core.config.model import STACK_SPARK
from fhirpulse.stack.processes import (
    StackError,
    pid_alive,
    port_open,
    start_moto,
    start_spark_cluster,
    start_trino,
    stop_process_group,
)
from fhirpulse.stack.provision import provision
from fhirpulse.stack.state import StackState, clear_state, load_state, state_dir

__all__ = ["StackError", "resolve_stack_values", "down", "status", "stop_spark_cluster", "up"]
_SPARK = "spark-"  # the cluster's process names start so


def _running(state: StackState) -> bool:
    return bool(state.pids) and all(pid_alive(pid) for pid in state.pids.values())


def up(cfg: Config, with_trino: bool = True, spark_workers: int | None = None) -> StackState:
    """Start moto (+ Trino, + a Spark cluster of `spark_workers` workers, default `spark.workers`), provision
    the config's resources, record the state. Re-uses a healthy stack, adding a cluster it lacks."""
    workers = cfg.spark.workers if spark_workers is None else spark_workers
    state = load_state()
    if state is not None:
        if _running(state) and state.env == cfg.env and (state.trino_url or not with_trino):
            provision(cfg.with_endpoint(state.aws_endpoint_url))
            if workers and not state.spark_master_url:
                _add_spark_cluster(cfg, state, workers)
            return state
        down()  # stale or different: start clean
    workdir = state_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    moto_pid, moto_port = start_moto(workdir)
    state = StackState(env=cfg.env, aws_endpoint_url=f"http://127.0.0.1:{moto_port}", pids={"moto": moto_pid},
                       ports={"moto": moto_port}, workdir=str(workdir))
    state.save()  # saved before each next step so that `down` can clean up after a failure
    try:
        provision(cfg.with_endpoint(state.aws_endpoint_url))
        if with_trino:
            trino_pid, trino_port = start_trino(cfg, workdir, state.aws_endpoint_url)
            state.pids["trino"], state.ports["trino"] = trino_pid, trino_port
            state.trino_url = f"http://127.0.0.1:{trino_port}"
            state.save()
        if workers:
            _add_spark_cluster(cfg, state, workers)
    except BaseException:
        down()
        raise
    return state


def _add_spark_cluster(cfg: Config, state: StackState, workers: int) -> None:
    cluster = start_spark_cluster(Path(state.workdir), workers, cfg.spark.worker_cores, cfg.spark.executor_memory)
    state.pids |= cluster.pids
    state.ports |= cluster.ports
    state.spark_master_url, state.spark_ui_url = cluster.master_url, cluster.ui_url
    state.save()


def stop_spark_cluster() -> list[str]:
    """Stop the stack's Spark cluster (workers first), keeping moto and Trino running."""
    state = load_state()
    if state is None:
        return []
    stopped = []
    for name in reversed([n for n in state.pids if n.startswith(_SPARK)]):
        if pid_alive(state.pids[name]):
            stop_process_group(state.pids[name])
            stopped.append(name)
        del state.pids[name]
    state.ports = {n: p for n, p in state.ports.items() if not n.startswith(_SPARK)}
    state.spark_master_url = state.spark_ui_url = None
    state.save()
    return stopped


def resolve_stack_values(cfg: Config) -> Config:
    """Resolve `aws.endpoint_url: "stack"` to the running stack's moto URL and `spark.master: "stack"` to its
    Spark cluster, so that job code (which never reads the state file) gets concrete endpoints. Other
    configs are returned unchanged."""
    wants_aws, wants_spark = cfg.aws.endpoint_url == STACK_ENDPOINT, cfg.spark.master == STACK_SPARK
    if not (wants_aws or wants_spark):
        return cfg
    state = load_state()
    if state is None or not _running(state):
        key = "aws.endpoint_url" if wants_aws else "spark.master"
        raise ConfigError(f"{key}: 'stack' needs a running embedded stack, and none is running; "
                          "run `fhirpulse stack up` first")
    if wants_spark:
        if not state.spark_master_url:
            raise ConfigError("spark.master: 'stack' needs the stack's Spark cluster, and it runs none; "
                              "run `fhirpulse stack up --spark-workers 2` (or set spark.workers)")
        cfg = cfg.model_copy(update={"spark": cfg.spark.model_copy(update={"master": state.spark_master_url})})
    return cfg.with_endpoint(state.aws_endpoint_url) if wants_aws else cfg


def down() -> list[str]:
    """Stop every recorded process (the last started first, moto last) and remove the state; safe on a stale
    or absent state."""
    state = load_state()
    stopped = []
    if state is not None:
        for name in reversed(list(state.pids)):
            pid = state.pids[name]
            if pid and pid_alive(pid):
                stop_process_group(pid)
                stopped.append(name)
        leftover = [n for n, port in state.ports.items() if port_open(port)]
        if leftover:
            raise StackError(f"ports still open after stopping: {leftover} ({state.ports})")
    clear_state()
    return stopped


def status(cfg: Config) -> dict[str, Any]:
    state = load_state()
    running = state is not None and _running(state)
    info: dict[str, Any] = {
        "running": running,
        "env": cfg.env,
        "aws_endpoint_url": state.aws_endpoint_url if running else None,
        "trino_url": state.trino_url if running else None,
        "spark_master_url": state.spark_master_url if running else None,
        "spark_ui_url": state.spark_ui_url if running else None,
        "processes": {n: {"pid": p, "alive": pid_alive(p), "port": state.ports.get(n)}
                      for n, p in state.pids.items()} if state else {},
        "state_file": str(Path(state_dir()) / "stack.json"),
        "config": cfg.model_dump(mode="json"),
    }
    if state is not None and not running:
        info["stale"] = asdict(state)
    return info
