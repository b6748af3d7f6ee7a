"""`fhirpulse stack up`, `status --json`, `down` through the real CLI: nothing is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fhirpulse.stack.processes import pid_alive, port_open

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "fhirpulse.cli"]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=400)


def test_up_status_down_leaves_no_process_or_port(tmp_path: Path):
    env = os.environ | {"FHIRPULSE_STATE_DIR": str(tmp_path), "FHIRPULSE_ENV": "local"}
    up = _cli("stack", "up", env=env)
    assert up.returncode == 0, up.stderr
    status = _cli("stack", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["running"] and info["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert info["trino_url"].startswith("http://127.0.0.1:")
    assert info["config"]["s3"]["bucket"] == "fhirpulse-local-lake"
    pids = [p["pid"] for p in info["processes"].values()]
    ports = [p["port"] for p in info["processes"].values()]
    assert len(pids) == 2 and all(pid_alive(p) for p in pids) and all(port_open(p) for p in ports)

    down = _cli("stack", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(p) for p in pids)
    assert not any(port_open(p) for p in ports)
    assert not (tmp_path / "stack.json").exists()
    after = _cli("stack", "status", "--json", env=env)
    assert json.loads(after.stdout)["running"] is False


def test_down_handles_stale_state(tmp_path: Path):
    env = os.environ | {"FHIRPULSE_STATE_DIR": str(tmp_path)}
    # A state file left by a crashed stack: its pid is gone and nothing listens on its port.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "stack.json").write_text(json.dumps({
        "env": "local", "aws_endpoint_url": "http://127.0.0.1:9", "trino_url": None,
        "pids": {"moto": dead.pid}, "ports": {"moto": 9}, "workdir": str(tmp_path)}))
    down = _cli("stack", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert not (tmp_path / "stack.json").exists()
