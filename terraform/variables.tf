variable "env" {
  description = "Environment name: reads config/<env>.json, the same file the jobs and the embedded stack use."
  type        = string
  default     = "local"
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]*$", var.env))
    error_message = "env must be lowercase letters, digits and underscores (it names config/<env>.json)."
  }
}

variable "target" {
  description = "Where to apply: 'local' = an AWS emulator at aws_endpoint_url (moto / LocalStack), 'aws' = real AWS."
  type        = string
  default     = "local"
  validation {
    condition     = contains(["local", "aws"], var.target)
    error_message = "target must be 'local' or 'aws'."
  }
}

variable "aws_endpoint_url" {
  description = "Emulator endpoint for target=local, e.g. the value of `fhirpulse stack status --json | jq -r .aws_endpoint_url`."
  type        = string
  default     = "http://127.0.0.1:4566"
  validation {
    condition     = can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be an http(s):// URL."
  }
}

variable "enable_alerts_test_queue" {
  description = "Subscribe the configured SQS test queue to the alerts topic (tests read alerts from it)."
  type        = bool
  default     = true
}
