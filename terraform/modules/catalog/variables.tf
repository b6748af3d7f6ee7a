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
