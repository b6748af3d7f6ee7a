"""Trino 476's server: the SHA-256-pinned tarball from Maven Central, unpacked once into the cache and
trimmed to the core and the Hudi and Hive plugins."""

from __future__ import annotations

import shutil
from pathlib import Path

from fhirpulse.deps._common import DependencyError, cache_dir, log, run, sha256
from fhirpulse.deps.maven import maven_repo, mvn

TRINO_VERSION = "476"
TRINO_ARTIFACT = f"io.trino:trino-server:{TRINO_VERSION}:tar.gz"
# Trino publishes no standalone Hudi plugin archive for 476, so the server tarball is fetched and only
# what the embedded stack runs is unpacked: the core plus the plugins below.
TRINO_PLUGINS = ("hudi", "hive")  # hive: the plain audit tables, and the analyst SQL's one catalog
TRINO_SHA256 = "cfd5accde17e8ebd251eeeb78aed1f490e77bb3a164d95a0f454bf8a7c1cbd3f"


def _marker_text() -> str:
    """What a complete unpack records: the tarball and the plugins kept (another set is unpacked anew)."""
    return f"{TRINO_SHA256}\n{','.join(TRINO_PLUGINS)}\n"


def trino_home(fetch: bool = False) -> Path:
    """Trino 476 unpacked (core + the plugins above) in the cache."""
    home = cache_dir() / f"trino-server-{TRINO_VERSION}"
    marker = home / ".fhirpulse-complete"
    if marker.is_file() and marker.read_text() == _marker_text():
        return home
    if not fetch:
        raise DependencyError(f"Trino {TRINO_VERSION} is not fetched yet: run `make bootstrap` (fhirpulse deps fetch)")
    log(f"fetching Trino {TRINO_VERSION} server from Maven Central (~820 MB, once)")
    tarball = maven_repo() / "io/trino/trino-server" / TRINO_VERSION / f"trino-server-{TRINO_VERSION}.tar.gz"
    if not tarball.is_file():
        run(mvn("dependency:get", "-Dtransitive=false", f"-Dartifact={TRINO_ARTIFACT}"), f"Trino {TRINO_ARTIFACT}")
    if sha256(tarball) != TRINO_SHA256:
        tarball.unlink()
        raise DependencyError(f"{tarball.name}: SHA-256 mismatch (deleted; re-run to fetch again)")
    staging = home.with_name(home.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # Plugins hard-link jars of other plugins, so the whole archive is unpacked and then trimmed; the
    # links keep the kept plugins' files alive.
    run(["tar", "-xzf", str(tarball), "-C", str(staging), "--strip-components=1"], f"unpacking {tarball.name}")
    for plugin in (staging / "plugin").iterdir():
        if plugin.name not in TRINO_PLUGINS:
            shutil.rmtree(plugin)
    (staging / ".fhirpulse-complete").write_text(_marker_text())
    shutil.rmtree(home, ignore_errors=True)
    staging.rename(home)
    tarball.unlink()  # the unpacked server is the cache; the 820 MB archive is not needed again
    return home
