# One root for every environment: names come from config/<env>.json (the jobs' own config); only the
# endpoints differ between an emulator and real AWS.
locals {
  repo     = "${path.module}/.."
  config   = jsondecode(file("${local.repo}/config/${var.env}.json"))
  pipeline = jsondecode(file("${local.repo}/config/workflow/pipeline.json"))
  emulated = var.target == "local"
  # Glue jobs and the trigger Lambda: an emulator runs neither (the local runner and `fhirpulse watch`
  # stand in for them), so by default they are declared for real AWS only.
  compute    = coalesce(var.enable_compute, !local.emulated)
  account_id = var.offline ? var.offline_account_id : data.aws_caller_identity.current[0].account_id
  scripts    = try(local.config.s3.scripts_prefix, "scripts")
  views_dir  = try(local.config.silver.views_dir, "config/views")
  log_days   = try(local.config.workflow.log_retention_days, 30)
}

# Skipped offline: a plan without AWS access cannot ask who the caller is.
data "aws_caller_identity" "current" {
  count = var.offline ? 0 : 1
}

data "aws_partition" "current" {}

provider "aws" {
  region = local.config.region

  # An emulator: its static test keys and path-style S3 (STS stays on, so account ids resolve).
  # offline=true: placeholder keys that are never checked, no account or metadata look-ups (plans only).
  access_key                  = local.emulated ? local.config.aws.access_key_id : (var.offline ? "offline-plan" : null)
  secret_key                  = local.emulated ? local.config.aws.secret_access_key : (var.offline ? "offline-plan" : null)
  s3_use_path_style           = local.emulated
  skip_credentials_validation = var.offline
  skip_requesting_account_id  = var.offline
  skip_metadata_api_check     = local.emulated || var.offline

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
      lambda   = var.aws_endpoint_url
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
  source                 = "./modules/ingest_ledger"
  table_name             = local.config.dynamodb.ledger_table
  point_in_time_recovery = !local.emulated
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
  # the config's `athena` section (AWS environments); Athena's built-in 'primary' is not ours to create
  athena_workgroup        = try(local.config.athena.workgroup, "primary") == "primary" ? null : local.config.athena.workgroup
  athena_results_location = "s3://${local.config.s3.bucket}/${try(local.config.athena.results_prefix, "athena-results")}/"
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
  log_retention_days     = local.log_days
  # Glue refuses a trigger whose job does not exist yet.
  depends_on = [module.glue_jobs]
}

# The jobs run spark_jobs/entrypoints/glue_job.py with the arguments the local runner passes
# (spark_jobs/lake/job_args.py: glue_arguments) plus the pipeline's Glue runtime settings.
module "glue_jobs" {
  count  = local.compute ? 1 : 0
  source = "./modules/glue_jobs"
  jobs = [for job in local.pipeline.jobs : {
    name            = job.name
    glue_job_name   = "${local.config.workflow.job_prefix}${job.name}"
    description     = job.description
    worker_type     = try(job.worker_type, "G.1X")
    workers         = try(job.workers, 2)
    timeout_minutes = try(job.timeout_minutes, 60)
  }]
  glue_version = local.pipeline.glue.version
  default_arguments = merge(try(local.pipeline.glue.arguments, {}), {
    # Glue's way of passing several Spark settings: one --conf whose value holds the others.
    "--conf"             = join(" --conf ", [for key, value in local.pipeline.glue.spark_conf : "${key}=${value}"])
    "--fhirpulse_config" = jsonencode(local.config)
    "--fhirpulse_full"   = "false"
  })
  python_modules     = try(local.pipeline.glue.python_modules, [])
  bucket_name        = module.lake_storage.bucket
  raw_prefix         = local.config.s3.raw_prefix
  lake_prefix        = local.config.s3.lake_prefix
  scripts_prefix     = local.scripts
  entry_script_path  = "${local.repo}/spark_jobs/entrypoints/glue_job.py"
  library_zip_path   = "${local.repo}/dist/glue/fhirpulse_jobs.zip"
  views_dir          = "${local.repo}/config/views"
  views_s3_uri       = startswith(local.views_dir, "s3://") ? local.views_dir : null
  ledger_table_arn   = module.ingest_ledger.table_arn
  database_names     = values(module.catalog.databases)
  role_name          = "${local.config.workflow.name}-glue-jobs"
  log_group_name     = "/aws-glue/jobs/${local.config.workflow.name}"
  log_retention_days = local.log_days
  partition          = data.aws_partition.current.partition
  region             = local.config.region
  account_id         = local.account_id
}

module "ingest_trigger" {
  count       = try(local.config.workflow.trigger_queue, null) == null ? 0 : 1
  source      = "./modules/ingest_trigger"
  bucket_name = module.lake_storage.bucket
  raw_prefix  = local.config.s3.raw_prefix
  queue_name  = local.config.workflow.trigger_queue

  enable_lambda           = local.compute
  function_name           = "${local.config.workflow.name}-trigger"
  package_path            = "${local.repo}/dist/lambda/ingest_trigger.zip"
  workflow_name           = module.workflow.workflow_name
  workflow_arn            = module.workflow.workflow_arn
  batching_window_seconds = ceil(try(local.config.workflow.debounce_seconds, 5))
  log_retention_days      = local.log_days
}
