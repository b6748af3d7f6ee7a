output "databases" {
  description = "Glue database names by layer."
  value       = { for layer, db in aws_glue_catalog_database.layer : layer => db.name }
}

output "athena_workgroup" {
  description = "The analysts' Athena workgroup (null when not declared)."
  value       = try(aws_athena_workgroup.analysts[0].name, null)
}
