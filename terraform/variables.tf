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

variable "offline" {
  description = "Plan without AWS access (CI): skip credential validation, account and metadata look-ups. For `terraform plan -refresh=false` only."
  type        = bool
  default     = false
}

variable "offline_account_id" {
  description = "The account id ARNs use when offline=true (no look-up possible); ignored otherwise."
  type        = string
  default     = "123456789012"
  validation {
    condition     = can(regex("^[0-9]{12}$", var.offline_account_id))
    error_message = "offline_account_id must be 12 digits."
  }
}

variable "enable_compute" {
  description = "Declare the Glue jobs, the trigger Lambda and their roles. null = only for target=aws (an emulator runs neither; the local runner and `fhirpulse watch` stand in)."
  type        = bool
  default     = null
}
