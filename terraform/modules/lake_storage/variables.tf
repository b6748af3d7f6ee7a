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

variable "abort_incomplete_upload_days" {
  description = "Days after which an unfinished multipart upload (a killed generator or job) is removed."
  type        = number
  default     = 7
  validation {
    condition     = var.abort_incomplete_upload_days >= 1
    error_message = "abort_incomplete_upload_days must be at least 1."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object's old version is kept (with versioning; Hudi rewrites files often)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}
