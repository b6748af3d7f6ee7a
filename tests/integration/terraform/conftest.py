"""Terraform roots for the tests: a copy of terraform/ with what it reads (config/, the entry script, the
resolved configs and the zips of `fhirpulse package`), initialised offline from a filesystem mirror of
hashicorp/aws.

The mirror is found in $FHIRPULSE_TF_PLUGIN_DIR, /opt/tf-plugins or ~/.terraform.d/plugins. Where there is
no terraform binary or no mirror the tests skip, saying which; under CI=true they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from fhirpulse.core.config import REPO_ROOT
from fhirpulse.deploy.package import build_all, build_configs

ENTRY_SCRIPT = Path("spark_jobs/entrypoints/glue_job.py")
_ENV = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _plugin_dir() -> Path | None:
    candidates = [os.environ.get("FHIRPULSE_TF_PLUGIN_DIR"), "/opt/tf-plugins",
                  str(Path.home() / ".terraform.d" / "plugins")]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def terraform_plugins() -> Path:
    if shutil.which("terraform") is None:
        _missing("no terraform binary on this machine")
    plugins = _plugin_dir()
    if plugins is None:
        _missing("no filesystem mirror of the hashicorp/aws provider (set FHIRPULSE_TF_PLUGIN_DIR)")
    return plugins


@dataclass(frozen=True)
class TerraformRoot:
    """terraform/ copied with its inputs; `run` calls terraform there, failing the test on an error."""

    dir: Path
    env: dict[str, str]

    def run(self, *args: str, tool: str = "terraform", check: bool = True, extra_env: dict | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([tool, *args, "-no-color"], cwd=self.dir,
                              env=self.env | (extra_env or {}), capture_output=True, text=True, timeout=timeout)
        if check:
            assert done.returncode == 0, f"{tool} {' '.join(args)}:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
        return done

    def plan_json(self, *args: str, extra_env: dict | None = None, tool: str = "terraform") -> dict:
        """`plan -out` with these arguments, then `terraform show -json` of that plan."""
        self.run("plan", "-out=tf.plan", *args, tool=tool, extra_env=extra_env)
        return json.loads(self.run("show", "-json", "tf.plan").stdout)


def make_root(tmp: Path, plugins: Path, package: bool = True) -> TerraformRoot:
    shutil.copytree(REPO_ROOT / "terraform", tmp / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
    shutil.copytree(REPO_ROOT / "config", tmp / "config")
    (tmp / ENTRY_SCRIPT).parent.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / ENTRY_SCRIPT, tmp / ENTRY_SCRIPT)
    if package:
        build_all(tmp / "dist")
    else:
        build_configs(tmp / "dist")  # what Terraform reads even without the zips
    root = TerraformRoot(tmp / "terraform", os.environ | _ENV)
    root.run("init", f"-plugin-dir={plugins}")
    return root


def resources(plan: dict, type_: str) -> dict[str, dict]:
    """Planned values of every resource of a type, by address."""
    return {r["address"]: r["change"]["after"] for r in plan["resource_changes"]
            if r["type"] == type_ and r["mode"] == "managed"}
