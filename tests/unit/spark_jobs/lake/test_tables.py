"""The table catalog names every table the jobs write, with its keys."""

from fhirpulse.core.config import load_config
from spark_jobs.lake import tables


def test_resource_table_names_are_snake_case():
    assert [tables.resource_table_name(t) for t in ("Patient", "MedicationRequest", "AllergyIntolerance")] == [
        "patient", "medication_request", "allergy_intolerance"]


def test_each_layer_keys_its_tables():
    cfg = load_config("local")
    patient = tables.resource_table("MedicationRequest")
    assert (patient.layer, patient.name, list(patient.record_key), patient.precombine) == (
        "bronze", "medication_request", ["id"], "precombine_ts")
    assert tables.bronze_table("medication_request") == patient
    assert tables.quarantine_table(cfg).name == cfg.bronze.quarantine_table
    assert list(tables.silver_table("encounter").record_key) == ["_row_key"]
    assert tables.stays_table(cfg).layer == tables.kpi_table(cfg).layer == "gold"
    assert list(tables.kpi_table(cfg).record_key) == tables.KPI_KEYS
