"""Deployment artifacts: what Terraform uploads for real Glue and Lambda (`fhirpulse package`)."""
