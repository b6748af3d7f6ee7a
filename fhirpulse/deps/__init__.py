"""Runtime dependencies outside Python: Spark's jars, Trino 476 and the two JDKs.

Everything lands in caches outside git and is re-used: jars stay in Maven's own repository (`~/.m2`, strict
checksums) and are pinned again by SHA-256 (`jars.py`); Trino is unpacked once into `$FHIRPULSE_CACHE`
(default `~/.cache/fhirpulse`; `trino.py`); the JDKs are found on the machine (`jdk.py`). A second `fetch`
does no download. Failures name what could not be had. This package's names stay importable from
`fhirpulse.deps`; `tools.py` holds the check tools the tests run.
"""

from __future__ import annotations

from pathlib import Path

from fhirpulse.deps._common import DependencyError, cache_dir
from fhirpulse.deps.jars import JAR_CHECKSUMS, POM, SPARK_JARS_DIR_VAR, export_jars, spark_jars
from fhirpulse.deps.jdk import SPARK_JAVA, TRINO_MIN_JAVA, Jdk, spark_jdk, trino_jdk
from fhirpulse.deps.maven import MAVEN_SETTINGS
from fhirpulse.deps.trino import TRINO_ARTIFACT, TRINO_PLUGINS, TRINO_SHA256, TRINO_VERSION, trino_home

__all__ = [
    "JAR_CHECKSUMS", "MAVEN_SETTINGS", "POM", "SPARK_JARS_DIR_VAR", "SPARK_JAVA", "TRINO_ARTIFACT", "TRINO_MIN_JAVA",
    "TRINO_PLUGINS", "TRINO_SHA256", "TRINO_VERSION", "DependencyError", "Jdk", "cache_dir", "export_jars",
    "fetch_all", "local_runtime", "spark_jars", "spark_jdk", "trino_home", "trino_jdk",
]


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
