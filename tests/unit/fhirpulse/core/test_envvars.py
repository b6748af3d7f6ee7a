"""One reader of the FHIRPULSE_* environment variables: fhirpulse.core.envvars (each with its reason)."""

from __future__ import annotations

import ast

import pytest

from fhirpulse.core import envvars
from fhirpulse.core.config import REPO_ROOT

# Read elsewhere on purpose; envvars' docstring says why.
_ELSEWHERE = {"FHIRPULSE_CRASH_AT", "FHIRPULSE_FAIL_AT", "FHIRPULSE_SPARK_LOG"}


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    """`os.environ.get("X")`, `os.getenv("X")`, `os.environ["X"]` with a literal FHIRPULSE_ name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = ast.unparse(node.func)
            if name in ("os.environ.get", "os.getenv", "environ.get"):
                found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
                and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant):
            found.append((node.lineno, node.slice.value))
    return [(line, name) for line, name in found if str(name).startswith("FHIRPULSE_")]


def test_only_envvars_reads_fhirpulse_variables():
    problems = []
    for package in ("fhirpulse", "generator", "spark_jobs"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path == REPO_ROOT / "fhirpulse/core/envvars.py":
                continue
            for line, name in _reads(ast.parse(path.read_text(), str(path))):
                if name not in _ELSEWHERE:
                    problems.append(f"{path.relative_to(REPO_ROOT)}:{line} reads {name}")
    assert problems == []


def test_an_unknown_name_is_refused_and_a_set_one_is_read(monkeypatch, tmp_path):
    with pytest.raises(KeyError, match="FHIRPULSE_NOPE"):
        envvars.get("FHIRPULSE_NOPE")
    monkeypatch.setenv(envvars.CACHE, str(tmp_path))
    monkeypatch.delenv(envvars.TOOLS, raising=False)
    assert envvars.path(envvars.CACHE, tmp_path / "x") == tmp_path
    assert envvars.path(envvars.TOOLS, tmp_path / "x") == tmp_path / "x"
