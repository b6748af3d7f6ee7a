"""The embedded stack: moto server as the AWS API, Trino 476 on the Glue catalog, resources from config."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from fhirpulse.core.aws import STACK_ENDPOINT
from fhirpulse.core.config import Config, ConfigError
from fhirpulse.stack.processes import (
    StackError,
    pid_alive,
    port_open,
    start_moto,
    start_trino,
    stop_process_group,
)
from fhirpulse.stack.provision import provision
from fhirpulse.stack.state import StackState, clear_state, load_state, state_dir

__all__ = ["StackError", "bind", "down", "status", "up"]


def _running(state: StackState) -> bool:
    return bool(state.pids) and all(pid_alive(pid) for pid in state.pids.values())


def up(cfg: Config, with_trino: bool = True) -> StackState:
    """Start moto (+ Trino), provision the config's resources, record the state. Re-uses a healthy stack."""
    state = load_state()
    if state is not None:
        if _running(state) and state.env == cfg.env and (state.trino_url or not with_trino):
            provision(cfg.with_endpoint(state.aws_endpoint_url))
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
    except BaseException:
        down()
        raise
    return state


def bind(cfg: Config) -> Config:
    """Resolve `aws.endpoint_url: "stack"` to the running stack's moto URL, so that job code (which never
    reads the state file) gets a concrete endpoint. Other configs are returned unchanged."""
    if cfg.aws.endpoint_url != STACK_ENDPOINT:
        return cfg
    state = load_state()
    if state is None or not _running(state):
        raise ConfigError("aws.endpoint_url: 'stack' needs a running embedded stack, and none is running; "
                          "run `fhirpulse stack up` first")
    return cfg.with_endpoint(state.aws_endpoint_url)


def down() -> list[str]:
    """Stop every recorded process (Trino first) and remove the state; safe on a stale or absent state."""
    state = load_state()
    stopped = []
    if state is not None:
        for name in ("trino", "moto"):
            pid = state.pids.get(name)
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
        "processes": {n: {"pid": p, "alive": pid_alive(p), "port": state.ports.get(n)}
                      for n, p in state.pids.items()} if state else {},
        "state_file": str(Path(state_dir()) / "stack.json"),
        "config": cfg.model_dump(mode="json"),
    }
    if state is not None and not running:
        info["stale"] = asdict(state)
    return info
