output "table_name" {
  description = "Ledger table name."
  value       = aws_dynamodb_table.ledger.name
}

output "table_arn" {
  description = "Ledger table ARN."
  value       = aws_dynamodb_table.ledger.arn
}
