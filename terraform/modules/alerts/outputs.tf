output "topic_arn" {
  description = "Alerts topic ARN."
  value       = aws_sns_topic.alerts.arn
}

output "rule_arn" {
  description = "Job-failure rule ARN."
  value       = aws_cloudwatch_event_rule.job_failed.arn
}

output "test_queue_url" {
  description = "Test queue URL, or null."
  value       = try(aws_sqs_queue.this["test"].id, null)
}
