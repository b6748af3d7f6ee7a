output "bucket" {
  description = "The lake bucket."
  value       = module.lake_storage.bucket
}

output "databases" {
  description = "Glue database names by layer."
  value       = module.catalog.databases
}

output "alerts_topic_arn" {
  description = "SNS topic of job failure alerts."
  value       = module.alerts.topic_arn
}
