# Real AWS (dev): every name comes from config/dev.json. Build the zips first: `fhirpulse package`.
#   terraform apply -var-file=environments/dev.tfvars
env    = "dev"
target = "aws"
