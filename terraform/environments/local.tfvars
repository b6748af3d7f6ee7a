env    = "local"
target = "local"
# aws_endpoint_url = "<fhirpulse stack status --json | jq -r .aws_endpoint_url>"
