"""The table catalog: every Hudi table the jobs write, named here with its layer, record key and precombine
field. The jobs write these tables and read each other's through this module (silver reads bronze's, gold
silver's), the tests and bench scripts find them here; no job module imports another to name its inputs.
Where each table lives follows from its layer and name (`HudiTable.path`, `S3Config.table_uri`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from fhirpulse.core.config import Config

BRONZE, SILVER, GOLD = "bronze", "silver", "gold"
# The KPI table's key: one row per discharge month x hospital x age band.
KPI_KEYS = ["discharge_month", "hospital_id", "age_band"]

@dataclass(frozen=True)
class HudiTable:
    """Where a table lives and how its rows are keyed."""

    layer: str  # bronze | silver | gold
    name: str
    record_key: Sequence[str]
    precombine: str
    partition_by: Sequence[str] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def path(self, cfg: Config) -> str:
        return cfg.s3.table_uri(self.layer, self.name)

    def database(self, cfg: Config) -> str:
        return cfg.glue.database(self.layer)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def resource_table_name(resource_type: str) -> str:
    """`MedicationRequest` -> `medication_request` (the bronze table of that type)."""
    return _CAMEL.sub("_", resource_type).lower()


def bronze_table(name: str) -> HudiTable:
    """The bronze resource table called `name` (see `resource_table` to name it by its resource type)."""
    # Non-partitioned on purpose: Hudi's default index finds a key only within its partition, and no FHIR
    # element is both immutable per resource and selective; silver/gold tables carry the partitions.
    return HudiTable(BRONZE, name, record_key=["id"], precombine="precombine_ts")


def resource_table(resource_type: str) -> HudiTable:
    """The bronze table of one FHIR resource type, keyed by resource id, newest meta.lastUpdated wins."""
    return bronze_table(resource_table_name(resource_type))


def quarantine_table(cfg: Config) -> HudiTable:
    """Bronze's rejected lines and entries, one row per place in a raw object's version."""
    return HudiTable(BRONZE, cfg.bronze.quarantine_table,
                     record_key=["source_file", "content_version", "source_line", "source_entry"],
                     precombine="ingested_at")


def silver_table(name: str) -> HudiTable:
    """The silver table of the ViewDefinition called `name`."""
    return HudiTable(SILVER, name, record_key=["_row_key"], precombine="_bronze_commit")


def stays_table(cfg: Config) -> HudiTable:
    """Gold's stays with their KPI flags, one row per inpatient encounter."""
    return HudiTable(GOLD, cfg.gold.stays_table, record_key=["encounter_id"], precombine="_computed_at")


def kpi_table(cfg: Config) -> HudiTable:
    """Gold's KPI numerators and denominators by `KPI_KEYS`."""
    return HudiTable(GOLD, cfg.gold.kpi_table, record_key=KPI_KEYS, precombine="_computed_at")
