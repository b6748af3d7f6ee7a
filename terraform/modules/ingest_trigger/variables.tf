variable "bucket_name" {
  description = "The lake bucket whose raw uploads trigger the workflow."
  type        = string
}

variable "raw_prefix" {
  description = "Key prefix of raw FHIR uploads (no trailing '/')."
  type        = string
  validation {
    condition     = !endswith(var.raw_prefix, "/") && !startswith(var.raw_prefix, "/")
    error_message = "raw_prefix has no leading or trailing '/'."
  }
}

variable "queue_name" {
  description = "SQS queue receiving the raw prefix's ObjectCreated notifications."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.queue_name))
    error_message = "queue_name must be 1-80 letters, digits, '_' or '-'."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received batch stays hidden (at least the consumer's run time)."
  type        = number
  default     = 900
  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be 0-43200."
  }
}
