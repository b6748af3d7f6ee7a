# The workflow around the jobs, from config/workflow/pipeline.json: the Glue workflow (one run at a time) with an
# on-demand start trigger and one conditional trigger per job that waits for others (all SUCCEEDED), the
# table of the local runner's lock and run records, and the log group of per-run metrics.
locals {
  first_jobs   = [for job in var.jobs : job.glue_job_name if length(job.after) == 0]
  waiting_jobs = { for job in var.jobs : job.name => job if length(job.after) > 0 }
  glue_name    = { for job in var.jobs : job.name => job.glue_job_name }
}

resource "aws_glue_workflow" "this" {
  count               = var.enable_glue_workflow ? 1 : 0
  name                = var.workflow_name
  description         = var.description
  max_concurrent_runs = 1
}

resource "aws_glue_trigger" "start" {
  count         = var.enable_glue_workflow ? 1 : 0
  name          = "${var.workflow_name}-start"
  workflow_name = aws_glue_workflow.this[0].name
  type          = "ON_DEMAND"

  dynamic "actions" {
    for_each = local.first_jobs
    content {
      job_name = actions.value
    }
  }
}

resource "aws_glue_trigger" "after" {
  for_each          = var.enable_glue_workflow ? local.waiting_jobs : {}
  name              = "${var.workflow_name}-${each.key}"
  workflow_name     = aws_glue_workflow.this[0].name
  type              = "CONDITIONAL"
  start_on_creation = true

  actions {
    job_name = each.value.glue_job_name
  }

  predicate {
    logical = "AND"
    dynamic "conditions" {
      for_each = each.value.after
      content {
        job_name = local.glue_name[conditions.value]
        state    = "SUCCEEDED"
      }
    }
  }
}

resource "aws_dynamodb_table" "state" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is var.point_in_time_recovery: the root turns it on for target=aws (emulators have none).
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts at rest with an AWS-owned key; the lock and run items hold no PHI.
  name         = var.state_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }
}

resource "aws_cloudwatch_log_group" "metrics" {
  #checkov:skip=CKV_AWS_158:Run metrics (record counts, seconds) hold no PHI; a CMK adds cost and key policy.
  #checkov:skip=CKV_AWS_338:Retention is the config's workflow.log_retention_days (30 days by default).
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
}
