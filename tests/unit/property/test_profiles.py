"""The Hypothesis set-up: pinned, repeatable by default (`make test`, CI), random only when asked (`make test-all`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.unit.property import common

REPO = Path(__file__).resolve().parents[3]


def test_hypothesis_is_pinned_exactly_and_its_database_is_ignored():
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pins = [d for d in dev if re.match(r"hypothesis\b", d)]
    assert len(pins) == 1 and re.fullmatch(r"hypothesis==\d+\.\d+\.\d+", pins[0]), pins
    assert ".hypothesis/" in (REPO / ".gitignore").read_text().splitlines()


def test_the_default_profile_is_derandomized_and_the_hunt_random(monkeypatch):
    monkeypatch.delenv(common.PROFILE_VAR, raising=False)
    fixed = common.budget(5)
    assert fixed.derandomize and fixed.database is None and fixed.max_examples == max(1, int(5 * common.SCALE))
    monkeypatch.setenv(common.PROFILE_VAR, "hunt")
    assert not common.budget(5).derandomize
    monkeypatch.setenv(common.PROFILE_VAR, "random")
    with pytest.raises(ValueError, match="fixed, hunt"):
        common.budget(5)


def test_make_test_all_hunts_and_make_test_does_not():
    makefile = (REPO / "Makefile").read_text()
    targets = dict(re.findall(r"^([a-z-]+):.*?\n((?:\t.*\n)*)", makefile, re.MULTILINE))
    assert f"{common.PROFILE_VAR}=hunt" in targets["test-all"]
    assert common.PROFILE_VAR not in targets["test"]
