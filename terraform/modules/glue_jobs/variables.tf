variable "jobs" {
  description = "The pipeline's jobs (config/workflow/pipeline.json): name, Glue job name, description, worker type, workers, timeout."
  type = list(object({
    name            = string
    glue_job_name   = string
    description     = string
    worker_type     = string
    workers         = number
    timeout_minutes = number
  }))
  validation {
    condition     = alltrue([for j in var.jobs : contains(["G.1X", "G.2X", "G.4X", "G.8X"], j.worker_type) && j.workers >= 2])
    error_message = "each job needs a worker_type of G.1X, G.2X, G.4X or G.8X and at least 2 workers."
  }
}

variable "glue_version" {
  description = "Glue version of every job (5.0: Spark 3.5.4, Python 3.11, Java 17 — what the code is pinned to)."
  type        = string
  validation {
    condition     = var.glue_version == "5.0"
    error_message = "glue_version must be 5.0: the jobs and their Hudi 0.15 tables are pinned to Glue 5.0's runtime."
  }
}

variable "default_arguments" {
  description = "Arguments every job gets (config, Spark conf, Glue features); the module adds --fhirpulse_job, --extra-py-files and the log group."
  type        = map(string)
  validation {
    condition     = alltrue([for k in keys(var.default_arguments) : startswith(k, "--")])
    error_message = "Glue job arguments start with '--'."
  }
}

variable "python_modules" {
  description = "Pinned pip requirements for --additional-python-modules (empty: none)."
  type        = list(string)
}

variable "bucket_name" {
  description = "The lake bucket (scripts, raw uploads and tables live in it)."
  type        = string
}

variable "raw_prefix" {
  description = "Key prefix of raw FHIR uploads: the jobs may only read it."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the Hudi tables: the jobs may read and write it."
  type        = string
}

variable "scripts_prefix" {
  description = "Key prefix of the entry script, the job library and the views: the jobs may only read it."
  type        = string
  validation {
    condition     = !endswith(var.scripts_prefix, "/") && !startswith(var.scripts_prefix, "/")
    error_message = "scripts_prefix has no leading or trailing '/'."
  }
}

variable "entry_script_path" {
  description = "Local path of the Glue entry script (spark_jobs/entrypoints/glue_job.py), uploaded with its MD5 as etag."
  type        = string
}

variable "library_zip_path" {
  description = "Local path of the job library zip built by `fhirpulse package` (dist/glue/fhirpulse_jobs.zip)."
  type        = string
}

variable "views_dir" {
  description = "Local folder of the silver ViewDefinitions (config/views)."
  type        = string
}

variable "views_s3_uri" {
  description = "Where the jobs read the views (the config's silver.views_dir when it is s3://…); null = not uploaded."
  type        = string
  default     = null
}

variable "ledger_table_arn" {
  description = "The bronze ledger table (also silver's checkpoints): the only table the jobs may touch."
  type        = string
}

variable "database_names" {
  description = "The layer databases whose tables the jobs create and update."
  type        = list(string)
}

variable "role_name" {
  description = "Name of the jobs' IAM role."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch Logs group of the jobs' continuous logs (--continuous-log-logGroup)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the job logs."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}

variable "partition" {
  description = "AWS partition of the ARNs (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "Region of the catalog and log ARNs."
  type        = string
}

variable "account_id" {
  description = "Account of the catalog and log ARNs."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}
