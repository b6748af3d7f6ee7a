output "bucket" {
  description = "The lake bucket (raw, lake and scripts prefixes live in it)."
  value       = module.lake_storage.bucket
}

output "ledger_table" {
  description = "DynamoDB table of the bronze file ledger."
  value       = module.ingest_ledger.table_name
}

output "glue_databases" {
  description = "Glue databases by layer."
  value       = module.catalog.databases
}

output "alerts_topic_arn" {
  description = "SNS topic that receives Glue job failure events."
  value       = module.alerts.topic_arn
}

output "alerts_test_queue_url" {
  description = "SQS queue subscribed to the alerts topic (null when disabled)."
  value       = module.alerts.test_queue_url
}

output "workflow" {
  description = "The Glue workflow, its triggers, the runner's state table and the metrics log group."
  value = {
    name             = module.workflow.workflow_name
    triggers         = module.workflow.trigger_names
    state_table_name = module.workflow.state_table_name
    log_group_name   = module.workflow.log_group_name
  }
}

output "upload_queue_url" {
  description = "The queue of raw-upload notifications (the trigger's event source; null when none)."
  value       = try(module.ingest_trigger[0].queue_url, null)
}

output "glue_jobs" {
  description = "Glue job name by pipeline job, the entry script and the job library (null when not declared)."
  value = try({
    jobs            = module.glue_jobs[0].job_names
    script_location = module.glue_jobs[0].script_location
    library_uri     = module.glue_jobs[0].library_uri
    role_arn        = module.glue_jobs[0].role_arn
  }, null)
}

output "trigger_function" {
  description = "The trigger Lambda (null when not declared)."
  value       = try(module.ingest_trigger[0].function_name, null)
}

output "athena_workgroup" {
  description = "Athena workgroup of the analyst SQL (null on an emulator)."
  value       = module.catalog.athena_workgroup
}
