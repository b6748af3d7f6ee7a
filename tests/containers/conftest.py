"""The compose stack (docker-compose.yml) under testcontainers, for machines with a Docker engine.

Without one — no `docker` client, or a client that reaches no daemon — every test here skips, saying which.
The stack is reached from the host: config/compose.json's names with the host's 127.0.0.1 ports.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fhirpulse.core.config import REPO_ROOT, load_config

# compose's ports on the host (docker-compose.yml binds each to 127.0.0.1)
HOST_ENDPOINTS = {"aws": "http://127.0.0.1:4566", "glue": "http://127.0.0.1:5000", "trino": "http://127.0.0.1:8080"}


def docker_engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                              text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "the docker client reaches no Docker engine (docker info timed out)"
    if info.returncode != 0 or not info.stdout.strip():
        return f"the docker client reaches no Docker engine: {(info.stderr or info.stdout).strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def compose_stack():
    problem = docker_engine_problem()
    if problem:
        pytest.skip(f"container tests need a Docker engine: {problem}")
    from testcontainers.compose import DockerCompose

    subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "fhirpulse"), "deps", "export-jars",
                    str(REPO_ROOT / ".state" / "compose" / "jars")], check=True)
    with DockerCompose(str(REPO_ROOT), compose_file_name="docker-compose.yml", build=True, wait=True) as compose:
        yield compose


@pytest.fixture(scope="session")
def host_cfg(compose_stack):
    """config/compose.json as the host reaches it (same names, the host's ports)."""
    cfg = load_config("compose")
    aws = cfg.aws.model_copy(update={"endpoint_url": HOST_ENDPOINTS["aws"],
                                     "service_endpoints": {"glue": HOST_ENDPOINTS["glue"]}})
    return cfg.model_copy(update={"aws": aws, "trino": cfg.trino.model_copy(update={"url": HOST_ENDPOINTS["trino"]})})
