output "databases" {
  description = "Glue database names by layer."
  value       = { for layer, db in aws_glue_catalog_database.layer : layer => db.name }
}
