resource "aws_glue_catalog_database" "layer" {
  for_each     = var.databases
  name         = each.value
  description  = "FHIRPulse ${each.key} layer (${var.env})"
  location_uri = "${var.location_prefix}/${each.key}"
}

# Athena's workgroup for the analyst SQL (trino/queries/): results in the lake bucket, encrypted, and a
# per-query scan limit so a runaway query cannot run up the bill.
resource "aws_athena_workgroup" "analysts" {
  count         = var.athena_workgroup == null ? 0 : 1
  name          = var.athena_workgroup
  force_destroy = true

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    result_configuration {
      output_location = var.athena_results_location
      encryption_configuration {
        encryption_option = "SSE_S3"
      }
    }
  }
}
