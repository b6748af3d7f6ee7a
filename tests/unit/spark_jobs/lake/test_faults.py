"""The crash-point registry matches the code: every point a job passes is registered, every registered point is
passed somewhere, and an unknown name is refused (a typo would otherwise never fire)."""

from __future__ import annotations

import ast
import re

import pytest

from fhirpulse.core.config import REPO_ROOT
from spark_jobs.lake import faults

LAYERS = ("bronze", "silver", "gold")


def _points_in_code() -> set[str]:
    """Names at crash_point call sites: run.crash_point("x") (or run.first_crash_point("x")) is "<layer>_x"
    for its module's layer, and crash_point(f"{table.layer}_x") in the shared modules is "<layer>_x" for every
    layer."""
    found: set[str] = set()
    for path in (REPO_ROOT / "spark_jobs").rglob("*.py"):
        layer = path.parent.name
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                    in ("crash_point", "first_crash_point") and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(node.func, ast.Attribute):
                # run.crash_point("x"): in a layer's package "<layer>_x"; in the shared lifecycle, every layer's
                found.update(f"{each}_{arg.value}" for each in ((layer,) if layer in LAYERS else LAYERS))
            elif isinstance(arg, ast.JoinedStr):
                suffix = "".join(v.value for v in arg.values if isinstance(v, ast.Constant))
                found.update(f"{each}{suffix}" for each in LAYERS if f"{each}{suffix}" in faults.POINTS)
            elif not isinstance(arg, ast.Name):
                pytest.fail(f"{path}: crash_point with an argument this test cannot read")
    return found


def test_every_crash_point_in_the_code_is_registered_and_every_registered_one_is_used():
    assert _points_in_code() == set(faults.POINTS)
    assert all(re.fullmatch(r"(bronze|silver|gold)_[a-z_]+", p) for p in faults.POINTS)


def test_an_unknown_point_is_refused_and_an_unarmed_one_is_a_no_op(monkeypatch):
    monkeypatch.delenv(faults.ENV_VAR, raising=False)
    faults.crash_point("bronze_after_claim")  # not armed: returns
    with pytest.raises(ValueError, match="unknown crash point 'bronze_after_clam'"):
        faults.crash_point("bronze_after_clam")
