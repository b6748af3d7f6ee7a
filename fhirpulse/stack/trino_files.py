"""Trino's server files from `trino/etc/*` and `trino/catalog/*`, filled from config — one renderer for the
embedded Trino and for compose's coordinator and worker (`fhirpulse stack trino-etc`), so both read the
same files and only the values differ.

Roles: `embedded` (one node on 127.0.0.1 that schedules work on itself), `coordinator` and `worker`
(compose: container names, binding the container's interfaces).
"""

from __future__ import annotations

from pathlib import Path

from fhirpulse.core.config import REPO_ROOT, Config
from fhirpulse.core.config.model import TrinoConfig
from fhirpulse.core.templates import fill

TRINO_DIR = REPO_ROOT / "trino"
ROLES = ("embedded", "coordinator", "worker")
# compose: the coordinator's service name and the ports and paths inside the trinodb/trino image
COMPOSE_COORDINATOR, COMPOSE_PORT = "trino", 8080
IMAGE_PLUGIN_DIR, IMAGE_DATA_DIR = Path("/usr/lib/trino/plugin"), Path("/data/trino")


def _values(cfg: Config, role: str, port: int, plugin_dir: Path, catalog_dir: Path, data_dir: Path) -> dict:
    if role not in ROLES:
        raise ValueError(f"unknown Trino role {role!r} (expected one of {', '.join(ROLES)})")
    common = {"query_max_memory": cfg.trino.query_max_memory, "task_concurrency": cfg.trino.task_concurrency,
              "heap": cfg.trino.heap, "processors": cfg.trino.processors, "plugin_dir": plugin_dir,
              "catalog_dir": catalog_dir, "data_dir": data_dir, "node_environment": f"fhirpulse_{cfg.env}",
              "http_port": port}
    if role == "embedded":
        return common | {"coordinator": "true", "include_coordinator": "true", "bind_ip": "127.0.0.1",
                         "internal_address": "127.0.0.1", "discovery_uri": f"http://127.0.0.1:{port}",
                         "node_id": f"fhirpulse-{cfg.env}-1"}
    host = COMPOSE_COORDINATOR if role == "coordinator" else "trino-worker"
    return common | {"coordinator": str(role == "coordinator").lower(), "include_coordinator": "false",
                     "bind_ip": "0.0.0.0", "internal_address": host,
                     "discovery_uri": f"http://{COMPOSE_COORDINATOR}:{port}", "node_id": f"fhirpulse-{host}"}


def render_trino_etc(cfg: Config, role: str, port: int = COMPOSE_PORT, plugin_dir: Path = IMAGE_PLUGIN_DIR,
                     catalog_dir: Path | None = None, data_dir: Path = IMAGE_DATA_DIR) -> dict[str, str]:
    """{'etc/<file>' or 'catalog/<file>': text}: every template filled for `role`. Catalog files get only the
    Hudi catalog's name (Trino resolves their ${ENV:…} itself)."""
    values = _values(cfg, role, port, plugin_dir, catalog_dir or Path("/etc/trino/catalog"), data_dir)
    files = {}
    for template in sorted((TRINO_DIR / "etc").iterdir()):
        if template.is_file():
            files[f"etc/{template.name}"] = fill(template.read_text(), values, str(template))
    for template in sorted((TRINO_DIR / "catalog").glob("*.properties")):
        files[f"catalog/{template.name}"] = fill(template.read_text(), {"hudi_catalog": cfg.trino.catalog},
                                                 str(template))
    return files


def write_trino_etc(files: dict[str, str], etc: Path, trino: TrinoConfig) -> Path:
    """Lay the rendered files out as Trino reads them: etc/* at the top, catalog/<catalog>.properties below
    (the Hudi and Hive catalogs take the config's names for them)."""
    names = {"hudi.properties": f"{trino.catalog}.properties", "hive.properties": f"{trino.query_catalog}.properties"}
    (etc / "catalog").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        folder, _, file = name.partition("/")
        if folder == "catalog":
            (etc / "catalog" / names.get(file, file)).write_text(text)
        else:
            (etc / file).write_text(text)
    return etc
