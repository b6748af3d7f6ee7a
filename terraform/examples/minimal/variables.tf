variable "name" {
  description = "Prefix of every name (lowercase letters, digits and hyphens); databases use it with underscores."
  type        = string
  default     = "fhirpulse-example"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region, e.g. us-east-1."
  type        = string
}
