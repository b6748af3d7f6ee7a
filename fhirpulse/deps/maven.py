"""Maven, which fetches the Spark jars and the Trino tarball: strict checksums, Maven Central only."""

from __future__ import annotations

import os
from pathlib import Path

from fhirpulse.deps._common import HERE

MAVEN_SETTINGS = HERE / "maven-settings.xml"


def maven_repo() -> Path:
    """Maven's local repository: $MAVEN_REPO if set (e.g. to measure a cold bootstrap), else ~/.m2."""
    return Path(os.environ.get("MAVEN_REPO", Path.home() / ".m2" / "repository"))


def mvn(*args: str) -> list[str]:
    return ["mvn", "-B", "-q", "-C", "-s", str(MAVEN_SETTINGS), f"-Dmaven.repo.local={maven_repo()}", *args]
