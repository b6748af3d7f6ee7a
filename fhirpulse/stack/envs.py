"""Side-by-side environments on one stack: a config derived from config/local.json with every name its own."""

from __future__ import annotations

import json
from pathlib import Path

from fhirpulse.core.config import REPO_ROOT
from fhirpulse.core.config.pipeline import PIPELINE_FILE


def write_derived_config(env: str, folder: Path, **sections: dict) -> Path:
    """`folder`/<env>.json: config/local.json with every name made the env's own (bucket, tables, databases,
    topic, queues, workflow, log group), then `sections` merged in; plus the pipeline definition. Point
    $FHIRPULSE_CONFIG_DIR at `folder` to use it (tests and benchmarks run several envs on one stack)."""
    text = (REPO_ROOT / "config" / "local.json").read_text()
    for old, new in (("fhirpulse-local", f"fhirpulse-{env}"), ("fhirpulse_local_", f"fhirpulse_{env}_"),
                     ("/fhirpulse/local/", f"/fhirpulse/{env}/")):
        text = text.replace(old, new)
    data = json.loads(text) | {"env": env}
    for section, values in sections.items():
        data[section] = data.get(section, {}) | values
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{env}.json").write_text(json.dumps(data, indent=2))
    (folder / PIPELINE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (folder / PIPELINE_FILE).write_text((REPO_ROOT / "config" / PIPELINE_FILE).read_text())
    return folder
