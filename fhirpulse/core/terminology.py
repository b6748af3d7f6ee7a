"""Code systems and clinical concepts: the one place to change a code.

Every coding the generator emits comes from a table here, and the config validation and the gold KPIs read
the same tables, so a code is never kept twice. SNOMED CT for conditions and encounter types, LOINC + UCUM
for observations, HL7 terminology for Encounter.class, admit source, discharge disposition and the
status/category value sets.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
NPI = "http://hl7.org/fhir/sid/us-npi"
MRN_SYSTEM = "urn:fhirpulse:mrn"  # the synthetic hospitals' medical record numbers

# Encounter.class (v3-ActCode): inpatient admissions, emergency and ambulatory visits.
INPATIENT_CLASS = "IMP"
EMERGENCY_CLASS = "EMER"
AMBULATORY_CLASS = "AMB"
ENCOUNTER_CLASSES = {
    INPATIENT_CLASS: "inpatient encounter",
    EMERGENCY_CLASS: "emergency",
    AMBULATORY_CLASS: "ambulatory",
}

# Discharge dispositions the generator's simulation treats specially: an in-hospital death is discharged
# `exp` (expired); a discharge to hospice (`hosp`) dies outside hospital and has no further encounters.
EXPIRED = "exp"
HOSPICE = "hosp"
# Alive discharges come from config weights; EXPIRED is reserved for in-hospital deaths.
DISCHARGE_DISPOSITIONS = {
    "home": "Home",
    "alt-home": "Alternative home",
    "other-hcf": "Other healthcare facility",
    HOSPICE: "Hospice",
    "long": "Long-term care",
    "aadvice": "Left against advice",
    EXPIRED: "Expired",
    "psy": "Psychiatric hospital",
    "rehab": "Rehabilitation",
    "snf": "Skilled nursing facility",
    "oth": "Other",
}
# Every disposition but EXPIRED, which only in-hospital deaths get.
ALIVE_DISCHARGE_DISPOSITIONS = frozenset(DISCHARGE_DISPOSITIONS) - {EXPIRED}
# Encounter.priority of admissions: emergency or elective (planned).
ADMISSION_PRIORITIES = {"EM": "emergency", "EL": "elective"}
ADMIT_SOURCES = {"emd": "From accident/emergency department", "gp": "General Practitioner referral"}


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """An admission diagnosis with its relative frequency and the comorbidities that make it likelier."""

    concept: Concept
    weight: float
    boosts: tuple[tuple[str, float], ...] = ()
    requires: str | None = None  # a comorbidity the diagnosis cannot occur without (e.g. COPD exacerbation)


# Encounter.type (SNOMED procedures).
EMERGENCY_ADMISSION = Concept("183452005", "Emergency hospital admission (procedure)")
ELECTIVE_ADMISSION = Concept("8715000", "Hospital admission, elective (procedure)")
EMERGENCY_VISIT = Concept("50849002", "Emergency room admission (procedure)")
PROBLEM_VISIT = Concept("185347001", "Encounter for problem (procedure)")
CHECKUP_VISIT = Concept("185349003", "Encounter for check up (procedure)")
FOLLOWUP_VISIT = Concept("390906007", "Follow-up encounter (procedure)")

# Chronic comorbidities (problem-list items, onset before the first admission). Keys are the config's `comorbidity_prevalence` keys.
COMORBIDITIES: dict[str, Concept] = {
    "hypertension": Concept("38341003", "Hypertensive disorder, systemic arterial (disorder)"),
    "diabetes": Concept("44054006", "Diabetes mellitus type 2 (disorder)"),
    "ckd": Concept("709044004", "Chronic kidney disease (disorder)"),
    "copd": Concept("13645005", "Chronic obstructive lung disease (disorder)"),
    "heart_failure": Concept("84114007", "Heart failure (disorder)"),
    "atrial_fibrillation": Concept("49436004", "Atrial fibrillation (disorder)"),
    "asthma": Concept("195967001", "Asthma (disorder)"),
    "depression": Concept("35489007", "Depressive disorder (disorder)"),
}

SEPSIS = Concept("91302008", "Sepsis (disorder)")
PNEUMONIA = Concept("233604007", "Pneumonia (disorder)")
URINARY_TRACT_INFECTION = Concept("68566005", "Urinary tract infectious disease (disorder)")
CELLULITIS = Concept("128045006", "Cellulitis (disorder)")
C_DIFFICILE_INFECTION = Concept("186431008", "Clostridioides difficile infection (disorder)")
BACTERIAL_INFECTION = Concept("87628006", "Bacterial infectious disease (disorder)")

# Infections present on admission: the admission's reason, onset on hospital day 1.
POA_INFECTIONS: tuple[tuple[Concept, float], ...] = (
    (PNEUMONIA, 0.35), (URINARY_TRACT_INFECTION, 0.25), (SEPSIS, 0.25), (CELLULITIS, 0.15),
)
# Hospital-acquired infections (roughly the NHSN mix): onset on hospital day >= 3.
HOSPITAL_ACQUIRED_INFECTIONS: tuple[tuple[Concept, float], ...] = (
    (PNEUMONIA, 0.25), (URINARY_TRACT_INFECTION, 0.25), (C_DIFFICILE_INFECTION, 0.20), (SEPSIS, 0.15),
    (BACTERIAL_INFECTION, 0.15),
)
# The infections the generator emits; whether one is hospital-acquired depends on its onset only.
INFECTION_CODES = frozenset(c.code for c, _ in POA_INFECTIONS + HOSPITAL_ACQUIRED_INFECTIONS)

# --- Gold KPI value sets (docs/kpis.md); GoldConfig's defaults, so a deployment can change them in config.
# Infection Conditions the hospital-acquired-infection KPI counts (SNOMED CT).
HAI_INFECTION_CODES = (
    "91302008",   # sepsis
    "10001005",   # bacterial sepsis
    "76571007",   # septic shock
    "5758002",    # bacteremia
    "233604007",  # pneumonia
    "68566005",   # urinary tract infectious disease
    "301011002",  # Escherichia coli urinary tract infection
    "197927001",  # recurrent urinary tract infection
    "38822007",   # cystitis
    "128045006",  # cellulitis
    "186431008",  # Clostridioides difficile infection
    "87628006",   # bacterial infectious disease
)
# Discharge dispositions meaning death: HL7 discharge-disposition `exp`, NUBC 20 (expired), 40/41/42
# (expired at home / in a facility / place unknown, hospice claims).
DEATH_DISPOSITIONS = (EXPIRED, "20", "40", "41", "42")
# Discharges that are no index for 30-day readmission: against medical advice (HL7 `aadvice`, NUBC 07) and
# `hosp` / NUBC 02 (the transfer to another hospital the measure excludes).
READMISSION_EXCLUDED_DISPOSITIONS = ("aadvice", "07", HOSPICE, "02")
# Encounter.priority codes (v3-ActPriority) of planned admissions, which do not count as readmissions.
ELECTIVE_PRIORITIES = ("EL",)

# Non-infectious admission diagnoses.
ADMISSION_DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis(Concept("22298006", "Myocardial infarction (disorder)"), 6, (("hypertension", 1.5), ("diabetes", 1.5))),
    Diagnosis(Concept("230690007", "Cerebrovascular accident (disorder)"), 5,
              (("atrial_fibrillation", 3.0), ("hypertension", 1.5))),
    Diagnosis(Concept("42343007", "Congestive heart failure (disorder)"), 1, (("heart_failure", 12.0),)),
    Diagnosis(Concept("195951007", "Acute exacerbation of chronic obstructive airways disease (disorder)"), 8,
              requires="copd"),
    Diagnosis(Concept("420422005", "Diabetic ketoacidosis (disorder)"), 3, requires="diabetes"),
    Diagnosis(Concept("14669001", "Acute kidney injury (disorder)"), 2, (("ckd", 4.0),)),
    Diagnosis(Concept("359817006", "Closed fracture of hip (disorder)"), 5),
    Diagnosis(Concept("74400008", "Appendicitis (disorder)"), 3),
    Diagnosis(Concept("59282003", "Pulmonary embolism (disorder)"), 2),
    Diagnosis(Concept("128053003", "Deep venous thrombosis (disorder)"), 2),
    Diagnosis(Concept("25374005", "Gastroenteritis (disorder)"), 3),
    Diagnosis(Concept("271737000", "Anemia (disorder)"), 2, (("ckd", 2.0),)),
)

# Treat-and-release emergency visits.
EMERGENCY_COMPLAINTS: tuple[Concept, ...] = (
    Concept("29857009", "Chest pain (finding)"),
    Concept("21522001", "Abdominal pain (finding)"),
    Concept("25064002", "Headache (finding)"),
    Concept("44465007", "Sprain of ankle (disorder)"),
    Concept("271594007", "Syncope (disorder)"),
    Concept("161891005", "Backache (finding)"),
    Concept("284551006", "Laceration of foot (disorder)"),
)


@dataclass(frozen=True, slots=True)
class Measure:
    """A LOINC observation with its UCUM unit (unit is both the human unit and the UCUM code)."""

    code: str
    display: str
    unit: str


HEART_RATE = Measure("8867-4", "Heart rate", "/min")
RESPIRATORY_RATE = Measure("9279-1", "Respiratory rate", "/min")
BODY_TEMPERATURE = Measure("8310-5", "Body temperature", "Cel")
OXYGEN_SATURATION = Measure("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%")
BLOOD_PRESSURE_PANEL = Concept("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC_BP = Measure("8480-6", "Systolic blood pressure", "mm[Hg]")
DIASTOLIC_BP = Measure("8462-4", "Diastolic blood pressure", "mm[Hg]")

LEUKOCYTES = Measure("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL")
HEMOGLOBIN = Measure("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL")
CREATININE = Measure("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL")
GLUCOSE = Measure("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL")
SODIUM = Measure("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L")
C_REACTIVE_PROTEIN = Measure("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L")
LACTATE = Measure("2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L")
