resource "aws_glue_catalog_database" "layer" {
  for_each     = var.databases
  name         = each.value
  description  = "FHIRPulse ${each.key} layer (${var.env})"
  location_uri = "${var.location_prefix}/${each.key}"
}
