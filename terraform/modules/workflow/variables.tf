variable "workflow_name" {
  description = "Glue workflow name (also the name of the local runner's lock)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.workflow_name))
    error_message = "workflow_name must be 3-255 characters of letters, digits, '_', '.', '-'."
  }
}

variable "description" {
  description = "What the workflow does (from config/workflow/pipeline.json)."
  type        = string
}

variable "jobs" {
  description = "The pipeline's jobs in order: name (bronze|silver|gold), the Glue job's name, and the jobs that must all SUCCEED first."
  type = list(object({
    name          = string
    glue_job_name = string
    after         = list(string)
  }))
  validation {
    condition     = length(var.jobs) > 0 && length([for j in var.jobs : j if length(j.after) == 0]) > 0
    error_message = "jobs needs at least one job, and at least one job that waits for none."
  }
  validation {
    condition     = alltrue(flatten([for j in var.jobs : [for a in j.after : contains([for k in var.jobs : k.name], a)]]))
    error_message = "every name in a job's after list must be a job of the pipeline."
  }
}

variable "enable_glue_workflow" {
  description = "Declare the Glue workflow and its triggers (they start the Glue jobs on AWS; locally `fhirpulse run pipeline` runs the same definition)."
  type        = bool
  default     = true
}

variable "state_table_name" {
  description = "DynamoDB table of the local runner: its lock item and one item per workflow run."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.state_table_name))
    error_message = "state_table_name must be 3-255 characters of letters, digits, '_', '.', '-'."
  }
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery on the state table (real AWS)."
  type        = bool
  default     = false
}

variable "log_group_name" {
  description = "CloudWatch Logs group of per-run job metrics (Embedded Metric Format)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the metric logs."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}
