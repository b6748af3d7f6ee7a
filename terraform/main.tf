# One root for every environment: names come from config/<env>.json (the jobs' own config); only the
# endpoints differ between an emulator and real AWS. Terraform reads the config resolved by the typed model
# (`fhirpulse package` writes dist/config/<env>.json and dist/config/workflow/pipeline.json with every
# default filled in), so no default is restated here: run `fhirpulse package` before plan or apply.
locals {
  repo     = "${path.module}/.."
  resolved = "${local.repo}/dist/config"
  config   = jsondecode(file("${local.resolved}/${var.env}.json"))
  pipeline = jsondecode(file("${local.resolved}/workflow/pipeline.json"))
  emulated = var.target == "local"
  # Glue jobs and the trigger Lambda: an emulator runs neither (the local runner and `fhirpulse watch`
  # stand in for them), so by default they are declared for real AWS only.
  compute    = coalesce(var.enable_compute, !local.emulated)
  account_id = var.offline ? var.offline_account_id : data.aws_caller_identity.current[0].account_id
  athena     = local.config.athena
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
  athena_workgroup        = local.athena == null ? null : (local.athena.workgroup == "primary" ? null : local.athena.workgroup)
  athena_results_location = local.athena == null ? null : "s3://${local.config.s3.bucket}/${local.athena.results_prefix}/"
}

module "alerts" {
  source     = "./modules/alerts"
  topic_name = local.config.alerts.sns_topic
  rule_name  = local.config.alerts.job_failure_rule
  # The same pattern file fhirpulse/stack/provision.py registers on the embedded stack.
  event_pattern    = jsonencode(jsondecode(file("${path.module}/../config/events/glue_job_failure.json")))
  test_queue_name  = var.enable_alerts_test_queue ? local.config.alerts.test_queue : null
  relay_queue_name = local.config.alerts.relay_queue
}

# The same pipeline definition the local runner reads (fhirpulse/workflow/runner.py).
module "workflow" {
  source        = "./modules/workflow"
  workflow_name = local.config.workflow.name
  description   = local.pipeline.description
  jobs = [for job in local.pipeline.jobs : {
    name          = job.name
    glue_job_name = "${local.config.workflow.job_prefix}${job.name}"
    after         = job.after
  }]
  state_table_name       = local.config.workflow.state_table
  point_in_time_recovery = !local.emulated
  log_group_name         = local.config.workflow.log_group
  log_retention_days     = local.config.workflow.log_retention_days
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
    worker_type     = job.worker_type
    workers         = job.workers
    timeout_minutes = job.timeout_minutes
  }]
  glue_version = local.pipeline.glue.version
  default_arguments = merge(local.pipeline.glue.arguments, {
    # Glue's way of passing several Spark settings: one --conf whose value holds the others.
    "--conf"             = join(" --conf ", [for key, value in local.pipeline.glue.spark_conf : "${key}=${value}"])
    "--fhirpulse_config" = jsonencode(local.config)
    "--fhirpulse_full"   = "false"
  })
  python_modules     = local.pipeline.glue.python_modules
  bucket_name        = module.lake_storage.bucket
  raw_prefix         = local.config.s3.raw_prefix
  lake_prefix        = local.config.s3.lake_prefix
  scripts_prefix     = local.config.s3.scripts_prefix
  entry_script_path  = "${local.repo}/spark_jobs/entrypoints/glue_job.py"
  library_zip_path   = "${local.repo}/dist/glue/fhirpulse_jobs.zip"
  views_dir          = "${local.repo}/config/views"
  views_s3_uri       = startswith(local.config.silver.views_dir, "s3://") ? local.config.silver.views_dir : null
  ledger_table_arn   = module.ingest_ledger.table_arn
  database_names     = values(module.catalog.databases)
  role_name          = "${local.config.workflow.name}-glue-jobs"
  log_group_name     = "/aws-glue/jobs/${local.config.workflow.name}"
  log_retention_days = local.config.workflow.log_retention_days
  partition          = data.aws_partition.current.partition
  region             = local.config.region
  account_id         = local.account_id
}

module "ingest_trigger" {
  count       = local.config.workflow.trigger_queue == null ? 0 : 1
  source      = "./modules/ingest_trigger"
  bucket_name = module.lake_storage.bucket
  raw_prefix  = local.config.s3.raw_prefix
  queue_name  = local.config.workflow.trigger_queue

  enable_lambda           = local.compute
  function_name           = "${local.config.workflow.name}-trigger"
  package_path            = "${local.repo}/dist/lambda/ingest_trigger.zip"
  workflow_name           = module.workflow.workflow_name
  workflow_arn            = module.workflow.workflow_arn
  batching_window_seconds = ceil(local.config.workflow.debounce_seconds)
  log_retention_days      = local.config.workflow.log_retention_days
}
