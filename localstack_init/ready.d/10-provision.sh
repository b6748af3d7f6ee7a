#!/usr/bin/env bash
# LocalStack ready hook: provision config/compose.json into this LocalStack (and the Glue catalog in the moto
# container) through the code `fhirpulse stack up` runs — fhirpulse.stack.provision — so compose and the
# embedded stack cannot drift; then deploy the trigger Lambda from lambdas/ingest_trigger.
set -euo pipefail
export PYTHONPATH=/opt/fhirpulse:/tmp/fhirpulse-pydeps
# LocalStack's system Python has neither pydantic nor boto3 on its path: add them once, beside the repo.
python3 -c 'import boto3, pydantic' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check --target /tmp/fhirpulse-pydeps 'boto3>=1.35' 'pydantic>=2.7,<3'
python3 -m fhirpulse.stack.provision --env compose --deploy-trigger-lambda
