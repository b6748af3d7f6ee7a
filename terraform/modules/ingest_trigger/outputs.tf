output "queue_url" {
  description = "The uploads queue URL."
  value       = aws_sqs_queue.uploads.id
}

output "queue_arn" {
  description = "The uploads queue ARN (the trigger Lambda's event source)."
  value       = aws_sqs_queue.uploads.arn
}

output "function_name" {
  description = "The trigger Lambda (null when not declared)."
  value       = try(aws_lambda_function.trigger[0].function_name, null)
}
