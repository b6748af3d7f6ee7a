"""R4 resource types come from fhir.resources' models, not from a hand-kept list."""

from spark_jobs.bronze.resource_types import R4_RESOURCE_TYPES, r4b_resource_types


def test_reading_the_model_sources_finds_exactly_the_resource_classes():
    """The fast text scan agrees with the slow, authoritative way: every R4B model class that is a resource."""
    from fhir.resources.R4B import fhirtypes, get_fhir_model_class

    by_class = set()
    for name in (n.removesuffix("Type") for n in dir(fhirtypes) if n.endswith("Type") and n[0].isupper()):
        try:
            klass = get_fhir_model_class(name)
        except ValueError:
            continue
        if klass.__name__ == name and any(b.__name__ == "FHIRResourceModel" for b in klass.__mro__[1:]):
            by_class.add(name)
    assert r4b_resource_types() == by_class - {"DomainResource", "Resource"}


def test_r4_is_r4b_with_its_changes_undone():
    assert len(R4_RESOURCE_TYPES) == 146  # FHIR 4.0.1's resource list
    assert {"Patient", "Bundle", "MedicinalProduct", "EffectEvidenceSynthesis", "SubstancePolymer"} <= R4_RESOURCE_TYPES
    assert not {"SubscriptionTopic", "Citation", "Ingredient", "DomainResource"} & R4_RESOURCE_TYPES
