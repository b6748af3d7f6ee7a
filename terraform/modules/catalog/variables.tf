variable "databases" {
  description = "Glue database name per layer (bronze, silver, gold)."
  type        = map(string)
  validation {
    condition     = alltrue([for name in values(var.databases) : can(regex("^[a-z][a-z0-9_]*$", name))])
    error_message = "Glue database names must be lowercase letters, digits and underscores."
  }
}

variable "location_prefix" {
  description = "s3://bucket/lake-prefix; each layer's database lives under <prefix>/<layer>."
  type        = string
}

variable "env" {
  description = "Environment name, for descriptions."
  type        = string
}

variable "athena_workgroup" {
  description = "Athena workgroup to create for the analyst SQL (null: none, e.g. on an emulator or with 'primary')."
  type        = string
  default     = null
}

variable "athena_results_location" {
  description = "s3://bucket/prefix/ where the workgroup writes query results."
  type        = string
  default     = null
  validation {
    condition     = var.athena_results_location == null || can(regex("^s3://.+/$", var.athena_results_location))
    error_message = "athena_results_location must be an s3:// URI ending in '/'."
  }
}

variable "athena_bytes_scanned_cutoff" {
  description = "Cancel an Athena query after it scans this many bytes (10 GB by default)."
  type        = number
  default     = 10737418240
  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "athena_bytes_scanned_cutoff must be at least 10 MB (Athena's minimum)."
  }
}
