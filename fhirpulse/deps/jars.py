"""The Spark-side jars (Hudi bundle, hudi-aws + SDK v2, hadoop-aws, aws-java-sdk-bundle): resolved by Maven
from `pom.xml`, pinned again by SHA-256 in `jars.sha256`, the classpath cached until the pom changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from fhirpulse.core import envvars
from fhirpulse.deps._common import HERE, DependencyError, cache_dir, log, run, sha256
from fhirpulse.deps.maven import mvn

POM = HERE / "pom.xml"
JAR_CHECKSUMS = HERE / "jars.sha256"
SPARK_JARS_DIR_VAR = envvars.SPARK_JARS_DIR


def _classpath_file() -> Path:
    return cache_dir() / "spark-classpath.txt"


def _load_pins() -> dict[str, str]:
    pins = {}
    for line in JAR_CHECKSUMS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            pins[name] = digest
    return pins


def _verify_jars(jars: list[Path]) -> None:
    pins = _load_pins()
    for jar in jars:
        expected = pins.get(jar.name)
        if expected is None:
            raise DependencyError(f"{jar.name}: resolved by Maven but not pinned in {JAR_CHECKSUMS.name}")
        if sha256(jar) != expected:
            raise DependencyError(f"{jar}: SHA-256 does not match the pin in {JAR_CHECKSUMS.name}")


def export_jars(target: Path) -> list[Path]:
    """Copy the verified Spark jars into `target` (compose mounts it into its Spark containers)."""
    target.mkdir(parents=True, exist_ok=True)
    jars = spark_jars(fetch=True)
    names = {jar.name for jar in jars}
    for stale in target.glob("*.jar"):
        if stale.name not in names:
            stale.unlink()
    for jar in jars:
        if not (target / jar.name).is_file() or (target / jar.name).stat().st_size != jar.stat().st_size:
            shutil.copy2(jar, target / jar.name)
    return sorted(target / name for name in names)


def spark_jars(fetch: bool = False) -> list[Path]:
    """The Spark-side jars (Hudi bundle, hudi-aws + SDK v2, hadoop-aws, aws-java-sdk-bundle); in a container,
    the folder $FHIRPULSE_SPARK_JARS_DIR they were exported to."""
    exported = envvars.get(SPARK_JARS_DIR_VAR)
    if exported:
        jars = sorted(Path(exported).glob("*.jar"))
        if not jars:
            raise DependencyError(f"${SPARK_JARS_DIR_VAR}={exported} holds no jars (`fhirpulse deps export-jars`)")
        return jars
    cp_file = _classpath_file()
    if cp_file.is_file():
        record = json.loads(cp_file.read_text())
        jars = [Path(p) for p in record["jars"]]
        if record.get("pom_sha256") == sha256(POM) and all(j.is_file() for j in jars):
            return jars
    if not fetch:
        raise DependencyError("Spark jars are not fetched yet: run `make bootstrap` (fhirpulse deps fetch)")
    log("resolving Spark jars with Maven (hudi-spark3.5-bundle 0.15.0, hudi-aws, hadoop-aws 3.3.4, ...)")
    out_file = cache_dir() / "classpath.tmp"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    run(mvn("-f", str(POM), "dependency:build-classpath", f"-Dmdep.outputFile={out_file}"), "the Spark jars")
    jars = [Path(p) for p in out_file.read_text().strip().split(os.pathsep) if p]
    out_file.unlink()
    _verify_jars(jars)
    cp_file.write_text(json.dumps({"pom_sha256": sha256(POM), "jars": [str(j) for j in jars]}, indent=1))
    return jars
