# One root for every environment: names come from config/<env>.json (the jobs' own config); only the
# endpoints differ between an emulator and real AWS.
locals {
  config   = jsondecode(file("${path.module}/../config/${var.env}.json"))
  pipeline = jsondecode(file("${path.module}/../config/workflow/pipeline.json"))
  emulated = var.target == "local"
}

provider "aws" {
  region = local.config.region

  # Emulator only: static test keys, path-style S3, no account or metadata look-ups.
  access_key                  = local.emulated ? local.config.aws.access_key_id : null
  secret_key                  = local.emulated ? local.config.aws.secret_access_key : null
  s3_use_path_style           = local.emulated
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated

  dynamic "endpoints" {
    for_each = local.emulated ? [1] : []
    content {
      s3       = var.aws_endpoint_url
      dynamodb = var.aws_endpoint_url
      glue     = var.aws_endpoint_url
      sns      = var.aws_endpoint_url
      sqs      = var.aws_endpoint_url
      events   = var.aws_endpoint_url
      sts      = var.aws_endpoint_url
      iam      = var.aws_endpoint_url
      logs     = var.aws_endpoint_url
    }
  }

  default_tags {
    tags = { project = "fhirpulse", env = local.config.env }
  }
}

module "lake_storage" {
  source      = "./modules/lake_storage"
  bucket_name = local.config.s3.bucket
  # Real buckets get versioning and encryption; emulators don't need them.
  enable_versioning = !local.emulated
}

module "ingest_ledger" {
  source     = "./modules/ingest_ledger"
  table_name = local.config.dynamodb.ledger_table
}

module "catalog" {
  source = "./modules/catalog"
  databases = {
    bronze = local.config.glue.bronze_database
    silver = local.config.glue.silver_database
    gold   = local.config.glue.gold_database
  }
  location_prefix = "s3://${local.config.s3.bucket}/${local.config.s3.lake_prefix}"
  env             = local.config.env
}

module "alerts" {
  source     = "./modules/alerts"
  topic_name = local.config.alerts.sns_topic
  rule_name  = local.config.alerts.job_failure_rule
  # The same pattern file fhirpulse/stack/provision.py registers on the embedded stack.
  event_pattern    = jsonencode(jsondecode(file("${path.module}/../config/events/glue_job_failure.json")))
  test_queue_name  = var.enable_alerts_test_queue ? try(local.config.alerts.test_queue, null) : null
  relay_queue_name = try(local.config.alerts.relay_queue, null)
}

# The same pipeline definition the local runner reads (fhirpulse/workflow/runner.py).
module "workflow" {
  source        = "./modules/workflow"
  workflow_name = local.config.workflow.name
  description   = try(local.pipeline.description, "")
  jobs = [for job in local.pipeline.jobs : {
    name          = job.name
    glue_job_name = "${local.config.workflow.job_prefix}${job.name}"
    after         = try(job.after, [])
  }]
  state_table_name       = local.config.workflow.state_table
  point_in_time_recovery = !local.emulated
  log_group_name         = local.config.workflow.log_group
}

module "ingest_trigger" {
  count       = try(local.config.workflow.trigger_queue, null) == null ? 0 : 1
  source      = "./modules/ingest_trigger"
  bucket_name = module.lake_storage.bucket
  raw_prefix  = local.config.s3.raw_prefix
  queue_name  = local.config.workflow.trigger_queue
}
