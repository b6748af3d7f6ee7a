output "queue_url" {
  description = "The uploads queue URL."
  value       = aws_sqs_queue.uploads.id
}

output "queue_arn" {
  description = "The uploads queue ARN (the trigger Lambda's event source)."
  value       = aws_sqs_queue.uploads.arn
}
