"""The compose stack, checked statically (this machine has no Docker engine): Docker Compose v2's own parser
and the compose-spec schema accept it, and it keeps the rules — pinned images, healthchecks everywhere,
start order by health, ports on 127.0.0.1 only, names from config/compose.json, the Trino files of the
embedded stack — and the container tests run the embedded tests' scenario bodies."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from fhirpulse.core.config import REPO_ROOT, load_config
from fhirpulse.deps.tools import tool_path
from fhirpulse.stack.trino_files import render_trino_etc

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PINNED = {"localstack/localstack": "4.14.0", "trinodb/trino": "476"}


def _tool(name: str) -> Path:
    path = tool_path(name)
    if not path.exists():
        pytest.skip(f"{name} not installed ({path}): run `fhirpulse deps tools {name}`")
    return path


@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose model as Docker Compose v2 resolves it (anchors merged, defaults filled)."""
    done = subprocess.run([str(_tool("compose")), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
                          capture_output=True, text=True, cwd=REPO_ROOT, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_docker_compose_v2_accepts_the_file_quietly():
    done = subprocess.run([str(_tool("compose")), "-f", str(COMPOSE_FILE), "config", "-q"], capture_output=True,
                          text=True, cwd=REPO_ROOT, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout == "", done.stderr


@pytest.mark.parametrize(("schema", "path"), [("vendor.compose-spec", "docker-compose.yml"),
                                              ("vendor.github-workflows", ".github/workflows/ci.yml")])
def test_files_match_their_published_json_schema(schema, path):
    done = subprocess.run([str(_tool("check-jsonschema")), "--builtin-schema", schema, str(REPO_ROOT / path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_image_is_pinned(compose):
    moto = next(r for r in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
                if r.startswith("moto"))
    pinned = PINNED | {"motoserver/moto": moto.split("==")[1]}  # the moto the embedded stack runs
    for name, service in compose["services"].items():
        repo, _, tag = service["image"].rpartition(":")
        assert repo and tag and tag != "latest" and "@" not in repo, f"{name}: {service['image']} is not pinned"
        if repo in pinned:
            assert tag == pinned[repo], f"{name}: {service['image']}"
        else:  # only our own image is built here, and its tag is the project's version
            assert tag == tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"], name
        if "build" in service:  # our image: its base pinned to Glue 5.0's Python
            dockerfile = REPO_ROOT / service["build"]["context"] / service["build"]["dockerfile"]
            bases = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
            assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", b) for b in bases), bases
    assert {s["image"].rpartition(":")[0] for s in compose["services"].values()} >= set(pinned)


def test_every_service_is_health_checked_and_starts_after_healthy_dependencies(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"


def test_every_port_binds_to_loopback_and_workers_scale(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
    worker = compose["services"]["spark-worker"]
    assert "container_name" not in worker and not worker.get("ports")  # --scale spark-worker=N works


def test_state_lives_in_named_volumes_and_binds_are_repo_folders(compose):
    named = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "volume":
                assert volume["source"] in named, f"{name}: {volume}"
            else:
                source = Path(volume["source"])
                assert source == Path("/var/run/docker.sock") or source.is_relative_to(REPO_ROOT), f"{name}: {volume}"
    assert {"localstack-data", "trino-etc", "jobs-state"} <= named


def test_localstack_passes_the_auth_token_through_and_runs_the_init_hooks(compose):
    localstack = compose["services"]["localstack"]
    assert "LOCALSTACK_AUTH_TOKEN" in localstack["environment"]
    services = set(localstack["environment"]["SERVICES"].split(","))
    assert {"s3", "dynamodb", "sns", "sqs", "events", "lambda", "logs"} <= services
    hooks = next(v for v in localstack["volumes"] if v["target"] == "/etc/localstack/init/ready.d")
    hook_files = sorted(Path(hooks["source"]).glob("*.sh"))
    assert hook_files and all(f.stat().st_mode & 0o111 for f in hook_files)
    # the hooks provision through the code `fhirpulse stack up` runs (nothing drifts)
    assert any("-m fhirpulse.stack.provision --env compose" in f.read_text() for f in hook_files)


def test_config_compose_names_compose_services(compose):
    cfg = load_config("compose")
    services = set(compose["services"])
    hosts = [urlparse(cfg.aws.endpoint_url).hostname, urlparse(cfg.trino.url).hostname,
             urlparse(cfg.spark.master).hostname, cfg.spark.driver_host,
             *(urlparse(u).hostname for u in cfg.aws.service_endpoints.values())]
    assert set(hosts) <= services, set(hosts) - services
    jobs = compose["services"]["jobs"]
    assert jobs["environment"]["FHIRPULSE_ENV"] == "compose"


def test_compose_trino_and_the_embedded_trino_read_the_same_files(compose):
    """Both render trino/etc and trino/catalog with one function; only the values differ."""
    renderer = compose["services"]["trino-etc"]["command"]
    assert "fhirpulse stack trino-etc --role coordinator" in " ".join(renderer)
    assert "fhirpulse stack trino-etc --role worker" in " ".join(renderer)
    for node in ("trino", "trino-worker"):
        assert compose["services"][node]["image"] == "trinodb/trino:476"
    local, composed = load_config("local"), load_config("compose")
    embedded = render_trino_etc(local, "embedded", port=8080, plugin_dir=Path("/x"), catalog_dir=Path("/c"))
    coordinator = render_trino_etc(composed, "coordinator")
    worker = render_trino_etc(composed, "worker")
    templates = {p.relative_to(REPO_ROOT / "trino").as_posix() for p in (REPO_ROOT / "trino").glob("*/*")
                 if p.parent.name in ("etc", "catalog")}
    for files in (embedded, coordinator, worker):
        assert set(files) == templates
        assert files["catalog/hudi.properties"] == (REPO_ROOT / "trino/catalog/hudi.properties").read_text()
    assert "coordinator=true" in coordinator["etc/config.properties"]
    assert "coordinator=false" in worker["etc/config.properties"]
    assert "discovery.uri=http://trino:8080" in worker["etc/config.properties"]


def _scenario_calls(folder: Path) -> set[str]:
    calls = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("tests.scenarios") for alias in node.names}
        calls |= {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and isinstance(node.func, ast.Name) and node.func.id in imported}
    return calls


def test_container_tests_run_the_embedded_tests_scenario_bodies():
    in_containers = _scenario_calls(REPO_ROOT / "tests" / "containers")
    embedded = _scenario_calls(REPO_ROOT / "tests" / "integration")
    assert in_containers, "the container tests call no shared scenario"
    assert in_containers <= embedded
