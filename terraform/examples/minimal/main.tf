# A minimal root using four of the modules: the lake bucket, the bronze ledger, the layer databases and the
# job-failure alerts, with names passed in directly. The full deployment (terraform/main.tf) takes every
# name from the resolved config instead and adds the workflow, the Glue jobs and the upload trigger.
#   terraform init && terraform plan -var name=my-fhirpulse -var region=us-east-1
provider "aws" {
  region = var.region
}

module "lake_storage" {
  source      = "../../modules/lake_storage"
  bucket_name = "${var.name}-lake"
}

module "ingest_ledger" {
  source                 = "../../modules/ingest_ledger"
  table_name             = "${var.name}-ingest-ledger"
  point_in_time_recovery = true
}

module "catalog" {
  source = "../../modules/catalog"
  databases = {
    for layer in ["bronze", "silver", "gold"] : layer => "${replace(var.name, "-", "_")}_${layer}"
  }
  location_prefix = "s3://${module.lake_storage.bucket}/lake"
  env             = var.name
}

module "alerts" {
  source     = "../../modules/alerts"
  topic_name = "${var.name}-alerts"
  rule_name  = "${var.name}-glue-job-failed"
  # the pattern the platform registers (config/events/glue_job_failure.json)
  event_pattern = jsonencode(jsondecode(file("${path.module}/../../../config/events/glue_job_failure.json")))
}
