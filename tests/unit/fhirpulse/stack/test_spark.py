"""One entry point for a local lakehouse session: `local_session`, used by the CLI, the runner, tests and bench."""

import ast
from pathlib import Path

from fhirpulse.core.config import load_config
from fhirpulse.stack import spark

REPO = Path(__file__).resolve().parents[4]


def test_local_session_hands_the_runtime_for_the_config_and_the_input_size(monkeypatch):
    calls = []
    monkeypatch.setattr(spark.deps, "local_runtime", lambda cluster=False: ("runtime", cluster))
    monkeypatch.setattr(spark, "build_session", lambda *args: calls.append(args) or "session")
    cfg = load_config("local")
    assert spark.local_session(cfg, "app", 1234) == "session"
    assert spark.local_session(cfg, "app") == "session"
    assert calls == [(cfg, "app", ("runtime", False), 1234), (cfg, "app", ("runtime", False), None)]
    cluster = cfg.model_copy(update={"spark": cfg.spark.model_copy(update={"master": "spark://host:7077"})})
    spark.local_session(cluster, "app")
    assert calls[-1][2] == ("runtime", True)


def test_no_other_laptop_code_builds_a_lakehouse_session():
    """build_session is called by the Glue entry script (its own session on Glue) and by local_session only."""
    callers = []
    for folder in ("fhirpulse", "tests", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == \
                        "build_session":
                    callers.append(str(path.relative_to(REPO)))
    assert callers == ["fhirpulse/stack/spark.py"]
