variable "bucket_name" {
  description = "Name of the lake bucket (raw FHIR, Hudi tables, job scripts)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "enable_versioning" {
  description = "Keep object versions (recommended on real AWS)."
  type        = bool
  default     = true
}
