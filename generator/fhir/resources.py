"""FHIR R4 resources as plain dicts (serialised with orjson; validated against fhir.resources.R4B on a sample).

Builders take already-decided facts (ids, minutes, codes) and only shape them; what is visible at a batch cut
is decided in emit.py. Constant fragments (codings, categories) are built once and shared between resources:
never mutate a returned dict.
"""

from __future__ import annotations

from fhirpulse.core.terminology import (
    ACT_CODE,
    ACT_PRIORITY,
    ADMISSION_PRIORITIES,
    ADMIT_SOURCE,
    ADMIT_SOURCES,
    BLOOD_PRESSURE_PANEL,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DIAGNOSIS_ROLE,
    DIASTOLIC_BP,
    DISCHARGE_DISPOSITION,
    DISCHARGE_DISPOSITIONS,
    ELECTIVE_ADMISSION,
    EMERGENCY_ADMISSION,
    EMERGENCY_CLASS,
    ENCOUNTER_CLASSES,
    INPATIENT_CLASS,
    LOINC,
    MRN_SYSTEM,
    NPI,
    OBSERVATION_CATEGORY,
    ORGANIZATION_TYPE,
    SNOMED,
    SYSTOLIC_BP,
    UCUM,
    Concept,
    Measure,
)
from generator.clock import fhir_datetime
from generator.simulation.model import Hospital, PatientTimeline, Stay, Visit
from generator.simulation.observations import Reading


def reference(resource_type: str, resource_id: str) -> dict:
    """A literal reference 'Type/id' (bundle.py turns those to entries of the same bundle into urn:uuid)."""
    return {"reference": f"{resource_type}/{resource_id}"}


def _codeable(system: str, code: str, display: str, text: bool = False) -> dict:
    concept = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        concept["text"] = display
    return concept


_SNOMED_CONCEPTS: dict[str, dict] = {}


def snomed(concept: Concept) -> dict:
    """A shared CodeableConcept for a SNOMED concept (cached: built once per code)."""
    codeable = _SNOMED_CONCEPTS.get(concept.code)
    if codeable is None:
        codeable = _SNOMED_CONCEPTS[concept.code] = _codeable(SNOMED, concept.code, concept.display, text=True)
    return codeable


_CLASSES = {code: {"system": ACT_CODE, "code": code, "display": display} for code, display in ENCOUNTER_CLASSES.items()}
_DISPOSITIONS = {code: _codeable(DISCHARGE_DISPOSITION, code, display) for code, display in DISCHARGE_DISPOSITIONS.items()}
_ADMIT_SOURCES = {code: _codeable(ADMIT_SOURCE, code, display) for code, display in ADMIT_SOURCES.items()}
_PRIORITIES = {code: _codeable(ACT_PRIORITY, code, display) for code, display in ADMISSION_PRIORITIES.items()}
_ADMISSION_DIAGNOSIS_ROLE = _codeable(DIAGNOSIS_ROLE, "AD", "Admission diagnosis")
_CHIEF_COMPLAINT_ROLE = _codeable(DIAGNOSIS_ROLE, "CC", "Chief complaint")
_CLINICAL = {
    "active": _codeable(CONDITION_CLINICAL, "active", "Active"),
    "resolved": _codeable(CONDITION_CLINICAL, "resolved", "Resolved"),
}
_CONFIRMED = _codeable(CONDITION_VERIFICATION, "confirmed", "Confirmed")
_CONDITION_CATEGORIES = {
    "encounter-diagnosis": [_codeable(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")],
    "problem-list-item": [_codeable(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
}
_OBSERVATION_CATEGORIES = {
    "vital-signs": [_codeable(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
    "laboratory": [_codeable(OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
}
_PROVIDER_TYPE = [_codeable(ORGANIZATION_TYPE, "prov", "Healthcare Provider")]
_LOINC_CONCEPTS: dict[str, dict] = {}


def loinc(code: str, display: str) -> dict:
    codeable = _LOINC_CONCEPTS.get(code)
    if codeable is None:
        codeable = _LOINC_CONCEPTS[code] = _codeable(LOINC, code, display, text=True)
    return codeable


def _quantity(value: float, measure: Measure) -> dict:
    return {"value": value, "unit": measure.unit, "system": UCUM, "code": measure.unit}


def _meta(last_updated: int) -> dict:
    return {"lastUpdated": fhir_datetime(last_updated)}


def organization(hospital: Hospital, last_updated: int) -> dict:
    return {
        "resourceType": "Organization",
        "id": hospital.organization_id,
        "meta": _meta(last_updated),
        "identifier": [{"system": NPI, "value": hospital.npi}],
        "active": True,
        "type": _PROVIDER_TYPE,
        "name": hospital.name,
        "telecom": [{"system": "phone", "value": hospital.phone, "use": "work"}],
        "address": [{"use": "work", "line": [hospital.line], "city": hospital.city, "state": hospital.state,
                     "postalCode": hospital.postal_code, "country": "US"}],
    }


def patient(timeline: PatientTimeline, hospital: Hospital, last_updated: int, deceased_at: int | None,
            phone: str, address: tuple[str, str, str, str]) -> dict:
    people = timeline.demographics
    line, city, state, postal_code = address
    resource = {
        "resourceType": "Patient",
        "id": timeline.patient_id,
        "meta": _meta(last_updated),
        "identifier": [{"use": "usual", "system": MRN_SYSTEM, "value": people.mrn}],
        "active": True,
        "name": [{"use": "official", "family": people.family, "given": [people.given]}],
        "telecom": [{"system": "phone", "value": phone, "use": "home"}],
        "gender": people.gender,
        "birthDate": people.birth_date,
        "address": [{"use": "home", "line": [line], "city": city, "state": state, "postalCode": postal_code,
                     "country": "US"}],
        "managingOrganization": {"reference": f"Organization/{hospital.organization_id}"},
    }
    if deceased_at is not None:
        resource["deceasedDateTime"] = fhir_datetime(deceased_at)
    return resource


def inpatient_encounter(stay: Stay, subject: dict, hospital: Hospital, finished: bool,
                        last_updated: int) -> dict:
    period = {"start": fhir_datetime(stay.start)}
    hospitalization = {"admitSource": _ADMIT_SOURCES["emd" if stay.emergency else "gp"]}
    resource = {
        "resourceType": "Encounter",
        "id": stay.encounter_id,
        "meta": _meta(last_updated),
        "status": "finished" if finished else "in-progress",
        "class": _CLASSES[INPATIENT_CLASS],
        "type": [snomed(EMERGENCY_ADMISSION if stay.emergency else ELECTIVE_ADMISSION)],
        "priority": _PRIORITIES["EM" if stay.emergency else "EL"],
        "subject": subject,
        "period": period,
        "reasonCode": [snomed(stay.reason)],
        "diagnosis": [{"condition": reference("Condition", stay.reason_condition_id),
                       "use": _ADMISSION_DIAGNOSIS_ROLE, "rank": 1}],
        "hospitalization": hospitalization,
        "serviceProvider": {"reference": f"Organization/{hospital.organization_id}", "display": hospital.name},
    }
    if finished:
        period["end"] = fhir_datetime(stay.end)
        resource["length"] = {"value": stay.los_days, "unit": "days", "system": UCUM, "code": "d"}
        hospitalization["dischargeDisposition"] = _DISPOSITIONS[stay.disposition]
    return resource


def visit_encounter(visit: Visit, subject: dict, hospital: Hospital, finished: bool,
                    last_updated: int) -> dict:
    period = {"start": fhir_datetime(visit.start)}
    resource = {
        "resourceType": "Encounter",
        "id": visit.encounter_id,
        "meta": _meta(last_updated),
        "status": "finished" if finished else "in-progress",
        "class": _CLASSES[visit.encounter_class],
        "type": [snomed(visit.encounter_type)],
        "subject": subject,
        "period": period,
    }
    if visit.reason is not None:
        resource["reasonCode"] = [snomed(visit.reason)]
    if visit.condition_id is not None:
        resource["diagnosis"] = [{"condition": reference("Condition", visit.condition_id),
                                  "use": _CHIEF_COMPLAINT_ROLE, "rank": 1}]
    if finished:
        period["end"] = fhir_datetime(visit.end)
        if visit.encounter_class == EMERGENCY_CLASS:
            resource["hospitalization"] = {"dischargeDisposition": _DISPOSITIONS["home"]}
    resource["serviceProvider"] = {"reference": f"Organization/{hospital.organization_id}", "display": hospital.name}
    return resource


def condition(condition_id: str, concept: Concept, category: str, subject: dict, encounter: dict, onset: int,
              recorded: int, abatement: int | None, last_updated: int) -> dict:
    resource = {
        "resourceType": "Condition",
        "id": condition_id,
        "meta": _meta(last_updated),
        "clinicalStatus": _CLINICAL["active" if abatement is None else "resolved"],
        "verificationStatus": _CONFIRMED,
        "category": _CONDITION_CATEGORIES[category],
        "code": snomed(concept),
        "subject": subject,
        "encounter": encounter,
        "onsetDateTime": fhir_datetime(onset),
    }
    if abatement is not None:
        resource["abatementDateTime"] = fhir_datetime(abatement)
    resource["recordedDate"] = fhir_datetime(recorded)
    return resource


def observation(reading: Reading, subject: dict, encounter: dict, status: str = "final",
                last_updated: int | None = None) -> dict:
    measure = reading.measure
    issued = fhir_datetime(reading.issued)
    resource = {
        "resourceType": "Observation",
        "id": reading.observation_id,
        "meta": {"lastUpdated": issued if last_updated is None else fhir_datetime(last_updated)},
        "status": status,
        "category": _OBSERVATION_CATEGORIES[reading.category],
        "code": _BLOOD_PRESSURE_CODE if measure is None else loinc(measure.code, measure.display),
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": fhir_datetime(reading.effective),
        "issued": issued,
    }
    if measure is not None:
        resource["valueQuantity"] = {"value": reading.value, "unit": measure.unit, "system": UCUM,
                                     "code": measure.unit}
    else:
        resource["component"] = [
            {"code": _SYSTOLIC_CODE, "valueQuantity": _quantity(reading.value, SYSTOLIC_BP)},
            {"code": _DIASTOLIC_CODE, "valueQuantity": _quantity(reading.value2, DIASTOLIC_BP)},
        ]
    return resource


_BLOOD_PRESSURE_CODE = loinc(BLOOD_PRESSURE_PANEL.code, BLOOD_PRESSURE_PANEL.display)
_SYSTOLIC_CODE = loinc(SYSTOLIC_BP.code, SYSTOLIC_BP.display)
_DIASTOLIC_CODE = loinc(DIASTOLIC_BP.code, DIASTOLIC_BP.display)
