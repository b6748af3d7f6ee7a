"""FHIR R4 (4.0.1) resource types, their bronze table names and where each keeps its patient reference."""

from __future__ import annotations

import re

# Every concrete resource type of FHIR R4 4.0.1 (https://hl7.org/fhir/R4/resourcelist.html).
R4_RESOURCE_TYPES: frozenset[str] = frozenset(["Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment", "AppointmentResponse", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct", "BodyStructure", "Bundle", "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry", "ChargeItem", "ChargeItemDefinition", "Claim", "ClaimResponse", "ClinicalImpression", "CodeSystem", "Communication", "CommunicationRequest", "CompartmentDefinition", "Composition", "ConceptMap", "Condition", "Consent", "Contract", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue", "Device", "DeviceDefinition", "DeviceMetric", "DeviceRequest", "DeviceUseStatement", "DiagnosticReport", "DocumentManifest", "DocumentReference", "EffectEvidenceSynthesis", "Encounter", "Endpoint", "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare", "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal", "GraphDefinition", "Group", "GuidanceResponse", "HealthcareService", "ImagingStudy", "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide", "InsurancePlan", "Invoice", "Library", "Linkage", "List", "Location", "Measure", "MeasureReport", "Media", "Medication", "MedicationAdministration", "MedicationDispense", "MedicationKnowledge", "MedicationRequest", "MedicationStatement", "MedicinalProduct", "MedicinalProductAuthorization", "MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient", "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged", "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "MessageDefinition", "MessageHeader", "MolecularSequence", "NamingSystem", "NutritionOrder", "Observation", "ObservationDefinition", "OperationDefinition", "OperationOutcome", "Organization", "OrganizationAffiliation", "Parameters", "Patient", "PaymentNotice", "PaymentReconciliation", "Person", "PlanDefinition", "Practitioner", "PractitionerRole", "Procedure", "Provenance", "Questionnaire", "QuestionnaireResponse", "RelatedPerson", "RequestGroup", "ResearchDefinition", "ResearchElementDefinition", "ResearchStudy", "ResearchSubject", "RiskAssessment", "RiskEvidenceSynthesis", "Schedule", "SearchParameter", "ServiceRequest", "Slot", "Specimen", "SpecimenDefinition", "StructureDefinition", "StructureMap", "Subscription", "Substance", "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification", "SupplyDelivery", "SupplyRequest", "Task", "TerminologyCapabilities", "TestReport", "TestScript", "ValueSet", "VerificationResult", "VisionPrescription"])

# Bundle types whose entries are independent resources to unpack; documents and messages stay whole.
UNPACKED_BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset", "history", "transaction-response",
                         "batch-response")

# The element that points at the patient, for types in the Patient compartment that have one (R4).
PATIENT_REFERENCE_ELEMENT: dict[str, str] = {
    **dict.fromkeys(
        ["Condition", "Encounter", "Observation", "Procedure", "MedicationRequest", "MedicationAdministration", "MedicationDispense", "MedicationStatement", "DiagnosticReport", "CarePlan", "CareTeam", "Goal", "ServiceRequest", "DocumentReference", "ImagingStudy", "Media", "DeviceRequest", "RiskAssessment", "ClinicalImpression", "Communication", "CommunicationRequest", "Composition", "DeviceUseStatement", "GuidanceResponse", "QuestionnaireResponse", "Specimen", "List", "Flag"],
        "subject"),
    **dict.fromkeys(
        ["AllergyIntolerance", "Immunization", "ImmunizationEvaluation", "ImmunizationRecommendation", "Claim", "ClaimResponse", "ExplanationOfBenefit", "FamilyMemberHistory", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "VisionPrescription", "EpisodeOfCare", "SupplyDelivery", "DetectedIssue", "NutritionOrder"],
        "patient"),
    "Coverage": "beneficiary",
    "Device": "patient",
    "ResearchSubject": "individual",
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def table_name(resource_type: str) -> str:
    """`MedicationRequest` -> `medication_request` (the bronze table of that type)."""
    return _CAMEL.sub("_", resource_type).lower()
