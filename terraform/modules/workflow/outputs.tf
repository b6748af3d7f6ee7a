output "workflow_name" {
  description = "The Glue workflow (null when not declared)."
  value       = try(aws_glue_workflow.this[0].name, null)
}

output "trigger_names" {
  description = "The workflow's triggers: the start trigger first, then one per waiting job."
  value       = concat([for t in aws_glue_trigger.start : t.name], [for t in aws_glue_trigger.after : t.name])
}

output "state_table_name" {
  description = "The local runner's lock and run table."
  value       = aws_dynamodb_table.state.name
}

output "log_group_name" {
  description = "Log group of per-run metrics."
  value       = aws_cloudwatch_log_group.metrics.name
}

output "workflow_arn" {
  description = "ARN of the Glue workflow (null when not declared)."
  value       = try(aws_glue_workflow.this[0].arn, null)
}
