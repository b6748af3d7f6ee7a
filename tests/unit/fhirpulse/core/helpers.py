"""Test helpers for the config model."""

from __future__ import annotations

from fhirpulse.core.config.pipeline import GlueRuntime


def conf_argument(glue: GlueRuntime) -> str:
    """What Terraform gives Glue as its one `--conf` value carrying several settings: `a=1 --conf b=2` (keys
    sorted, as Terraform iterates a map)."""
    return " --conf ".join(f"{key}={value}" for key, value in sorted(glue.spark_conf.items()))
