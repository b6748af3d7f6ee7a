"""FHIR R4 (4.0.1) resource types and where each keeps its patient reference (bronze table names: lake/tables.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

# fhir.resources ships R4B (4.3) and R5 models, not R4 (4.0.1). R4 is R4B without the resources R4B added
# and with the ones it dropped (https://hl7.org/fhir/R4B/diff.html); everything else comes from the models.
_ADDED_IN_R4B = frozenset({
    "AdministrableProductDefinition", "Citation", "ClinicalUseDefinition", "EvidenceReport", "Ingredient",
    "ManufacturedItemDefinition", "MedicinalProductDefinition", "NutritionProduct", "PackagedProductDefinition",
    "RegulatedAuthorization", "SubscriptionStatus", "SubscriptionTopic", "SubstanceDefinition",
})
_DROPPED_IN_R4B = frozenset({
    "EffectEvidenceSynthesis", "MedicinalProduct", "MedicinalProductAuthorization",
    "MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
    "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "RiskEvidenceSynthesis",
    "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
    "SubstanceSourceMaterial", "SubstanceSpecification",
})
# A concrete resource model in fhir.resources' generated source. Read as text: importing the 190 model
# modules to inspect their classes is far slower than reading them (a unit test checks both agree).
_RESOURCE_CLASS = re.compile(r"^class (\w+)\((?:domainresource\.DomainResource|resource\.Resource)\):", re.M)


def r4b_resource_types() -> frozenset[str]:
    """The concrete resource types of fhir.resources' R4B models."""
    package = Path(importlib.util.find_spec("fhir.resources.R4B").origin).parent
    found = {m.group(1) for f in package.glob("*.py") for m in _RESOURCE_CLASS.finditer(f.read_text())}
    return frozenset(found - {"DomainResource"})


# Every concrete resource type of FHIR R4 4.0.1 (https://hl7.org/fhir/R4/resourcelist.html).
R4_RESOURCE_TYPES: frozenset[str] = (r4b_resource_types() - _ADDED_IN_R4B) | _DROPPED_IN_R4B

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
