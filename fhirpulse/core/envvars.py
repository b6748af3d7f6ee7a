"""Every `FHIRPULSE_*` environment variable that fhirpulse/ and generator/ read, read here and nowhere else.

Settings of a platform environment are fields of `config/<env>.json` (`fhirpulse.core.config`). The variables
below are not, and each says why: they choose the config (so they exist before it), or they describe this
machine or checkout (caches, JDKs, a state folder) rather than an environment of the platform.

Read elsewhere, on purpose:
- `FHIRPULSE_CRASH_AT`, `FHIRPULSE_FAIL_AT` (`spark_jobs/lake/faults.py`): crash-injection hooks, armed per
  process by the reliability tests; a config field would ship an armed crash to Glue.
- `FHIRPULSE_SPARK_LOG` (`spark_jobs/lake/session.py`): where the JVM writes its stdout, set by the CLI for
  the session it is about to start (the job code on floor 2 cannot import this module's callers).
- `FHIRPULSE_ENV`, `FHIRPULSE_LOG_FORMAT` in `fhirpulse/cli`: typer's `envvar=` of the `--env` and
  `--log-format` options (the same name as `ENV` here).
Written, not read, by Python: `FHIRPULSE_AWS_*` / `FHIRPULSE_GLUE_ENDPOINT` (`fhirpulse/stack/processes.py`)
fill Trino's catalog file through `${ENV:…}`.
"""

from __future__ import annotations

import os
from pathlib import Path

# Which config/<env>.json to load: chosen before any config exists.
ENV = "FHIRPULSE_ENV"
# Where config/ is: tests and benchmarks point it at configs they derive; also before any config exists.
CONFIG_DIR = "FHIRPULSE_CONFIG_DIR"
# The checkout's state folder (the embedded stack's state file, logs): found before a config is loaded, so
# that `stack down` finds a crashed stack, and one per checkout rather than per environment.
STATE_DIR = "FHIRPULSE_STATE_DIR"
# This machine's download cache (jars, Trino, check tools): shared by every environment and checkout, and
# filled by `fhirpulse deps fetch` before any config is read.
CACHE = "FHIRPULSE_CACHE"
# The check tools' venvs (default: in CACHE): machine-level, like CACHE.
TOOLS = "FHIRPULSE_TOOLS"
# This machine's JDKs, when discovery should not choose: facts of the machine, not of an environment.
SPARK_JAVA_HOME = "FHIRPULSE_SPARK_JAVA_HOME"
TRINO_JAVA_HOME = "FHIRPULSE_TRINO_JAVA_HOME"
# In a container image: the folder the Spark jars were exported to (`fhirpulse deps export-jars`).
SPARK_JARS_DIR = "FHIRPULSE_SPARK_JARS_DIR"

NAMES = (ENV, CONFIG_DIR, STATE_DIR, CACHE, TOOLS, SPARK_JAVA_HOME, TRINO_JAVA_HOME, SPARK_JARS_DIR)


def get(name: str) -> str | None:
    """The variable's value, or None when it is not set."""
    if name not in NAMES:
        raise KeyError(f"{name} is not one of the variables fhirpulse.core.envvars reads")
    return os.environ.get(name)


def path(name: str, default: Path) -> Path:
    """The variable as a path, or `default` when it is not set."""
    value = get(name)
    return default if value is None else Path(value)
