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
