"""Helpers for the generator tests: run a batch into a folder, read the NDJSON back as plain dicts.

Reading is deliberately independent of the generator: plain json over the files, so a test checks the output,
not the generator's own bookkeeping.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from fhirpulse.core.config import GeneratorConfig, load_config
from generator.runner import BatchResult, JobSpec, generate_batch
from generator.writers.sinks import LocalDestination
from generator.writers.targets import Target

# Small and fast unless a test asks otherwise: few observations, all resource kinds present.
FAST = {"vitals_per_day": 1, "labs_per_day": 1, "validate_sample": 0.0, "chunk_patients": 50}


def generator_config(**overrides) -> GeneratorConfig:
    data = load_config("local").generator.model_dump()
    data.update(FAST)
    data.update(overrides)
    return GeneratorConfig.model_validate(data)


def run_batch(out: Path, batch: int = 1, workers: int = 1, output_format: str = "ndjson", gzip: bool = False,
              **overrides) -> BatchResult:
    job = JobSpec(config=generator_config(**overrides), batch=batch, output_format=output_format, gzip=gzip)
    return generate_batch(job, Target(root=out), LocalDestination(out), workers=workers)


def data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("generation-summary"))


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def read_resources(root: Path) -> dict[str, list[dict]]:
    """resourceType -> resources, from every NDJSON file under root (in file order)."""
    found: dict[str, list[dict]] = defaultdict(list)
    for path in data_files(root):
        if ".ndjson" not in path.name:
            continue
        for line in read_bytes(path).splitlines():
            resource = json.loads(line)
            found[resource["resourceType"]].append(resource)
    return found


def latest_versions(resources: list[dict]) -> dict[str, dict]:
    """id -> the version with the greatest meta.lastUpdated (what an upsert keeps)."""
    latest: dict[str, dict] = {}
    for resource in resources:
        current = latest.get(resource["id"])
        if current is None or resource["meta"]["lastUpdated"] >= current["meta"]["lastUpdated"]:
            latest[resource["id"]] = resource
    return latest


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def day(text: str) -> date:
    return instant(text).date()
