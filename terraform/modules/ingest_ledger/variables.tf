variable "table_name" {
  description = "DynamoDB table of the bronze file ledger: one item per (object_key, content_version)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '.', '-'."
  }
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery (real AWS)."
  type        = bool
  default     = false
}
