"""The embedded stack's state file: where its services listen and which processes run them.

It lives in `$FHIRPULSE_STATE_DIR` (default `<repo>/.state`) so that every command of one checkout finds
the stack that `fhirpulse stack up` started, and `stack down` can stop it even after a crash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fhirpulse.core import envvars
from fhirpulse.core.config import REPO_ROOT


def state_dir() -> Path:
    return envvars.path(envvars.STATE_DIR, REPO_ROOT / ".state")


def state_file() -> Path:
    return state_dir() / "stack.json"


@dataclass
class StackState:
    env: str
    aws_endpoint_url: str
    trino_url: str | None = None
    spark_master_url: str | None = None  # the stack's Spark cluster, when it runs one
    spark_ui_url: str | None = None
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    workdir: str = ""

    def save(self) -> None:
        state_file().parent.mkdir(parents=True, exist_ok=True)
        tmp = state_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(state_file())


def load_state() -> StackState | None:
    path = state_file()
    if not path.is_file():
        return None
    try:
        return StackState(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None  # a half-written or foreign file is treated as no stack


def clear_state() -> None:
    state_file().unlink(missing_ok=True)
