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

variable "enable_lambda" {
  description = "Declare the trigger Lambda and its event source (real AWS; locally `fhirpulse watch` polls the queue instead)."
  type        = bool
  default     = false
}

variable "function_name" {
  description = "Name of the trigger Lambda (and of its role)."
  type        = string
  default     = "fhirpulse-ingest-trigger"
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '_' or '-'."
  }
}

variable "package_path" {
  description = "Local path of the Lambda zip built by `fhirpulse package` (dist/lambda/ingest_trigger.zip)."
  type        = string
  default     = null
}

variable "workflow_name" {
  description = "The Glue workflow the trigger starts."
  type        = string
  default     = null
}

variable "workflow_arn" {
  description = "ARN of that workflow (the only resource the Lambda may start)."
  type        = string
  default     = null
}

variable "batching_window_seconds" {
  description = "How long SQS gathers uploads into one batch (the config's workflow.debounce_seconds, 0-300)."
  type        = number
  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300
    error_message = "batching_window_seconds must be 0-300."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Lambda's logs."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}
