# Real AWS (prod): every name comes from config/prod.json. Build the zips first: `fhirpulse package`.
#   terraform apply -var-file=environments/prod.tfvars
env    = "prod"
target = "aws"
