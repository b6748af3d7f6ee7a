"""FHIR R4 side: resource dict builders, what a batch shows (emit), transaction bundles."""
