# The Glue 5.0 jobs of the pipeline: one entry script for all (`--fhirpulse_job` says which), the job library
# as --extra-py-files, the silver ViewDefinitions next to them, one role that reaches only the lake's
# prefixes, the ledger and the layer databases, and a log group for the jobs' continuous logs.
locals {
  scripts_uri = "s3://${var.bucket_name}/${var.scripts_prefix}"
  script_key  = "${var.scripts_prefix}/${basename(var.entry_script_path)}"
  library_key = "${var.scripts_prefix}/${basename(var.library_zip_path)}"
  views_key   = var.views_s3_uri == null ? null : trimprefix(var.views_s3_uri, "s3://${var.bucket_name}/")
  view_files  = var.views_s3_uri == null ? toset([]) : fileset(var.views_dir, "*.json")
  arn         = "arn:${var.partition}"
  glue_arn    = "${local.arn}:glue:${var.region}:${var.account_id}"
  logs_arn    = "${local.arn}:logs:${var.region}:${var.account_id}:log-group"
  bucket_arn  = "${local.arn}:s3:::${var.bucket_name}"
}

resource "aws_s3_object" "entry_script" {
  bucket = var.bucket_name
  key    = local.script_key
  source = var.entry_script_path
  etag   = filemd5(var.entry_script_path)
}

resource "aws_s3_object" "library" {
  bucket = var.bucket_name
  key    = local.library_key
  source = var.library_zip_path
  etag   = fileexists(var.library_zip_path) ? filemd5(var.library_zip_path) : null

  lifecycle {
    precondition {
      condition     = fileexists(var.library_zip_path)
      error_message = "${var.library_zip_path} is missing: build it with `fhirpulse package` (or `make package`) first."
    }
  }
}

resource "aws_s3_object" "views" {
  for_each = local.view_files
  bucket   = var.bucket_name
  key      = "${local.views_key}/${each.value}"
  source   = "${var.views_dir}/${each.value}"
  etag     = filemd5("${var.views_dir}/${each.value}")

  lifecycle {
    precondition {
      condition     = startswith(var.views_s3_uri, "s3://${var.bucket_name}/")
      error_message = "silver.views_dir (${var.views_s3_uri}) must be in the lake bucket ${var.bucket_name}: the jobs' role reads only there."
    }
  }
}

resource "aws_cloudwatch_log_group" "jobs" {
  #checkov:skip=CKV_AWS_158:Job logs hold row counts and errors, no PHI; CloudWatch's default encryption applies, a CMK adds cost and key policy.
  #checkov:skip=CKV_AWS_338:Retention is the config's workflow.log_retention_days (30 days by default, to keep an idle stack cheap).
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume_glue" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "jobs" {
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for p in [var.raw_prefix, var.lake_prefix, var.scripts_prefix] : [p, "${p}/*"]])
    }
  }
  statement {
    sid       = "BucketLocation"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "ReadRawAndScripts"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.raw_prefix}/*", "${local.bucket_arn}/${var.scripts_prefix}/*"]
  }
  statement {
    sid       = "ReadWriteLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/${var.lake_prefix}/*"]
  }
  statement {
    sid = "Ledger"
    actions = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
    resources = [var.ledger_table_arn]
  }
  statement {
    sid = "LayerCatalog"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
    "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:BatchUpdatePartition", "glue:BatchDeletePartition"]
    resources = concat(["${local.glue_arn}:catalog"],
      [for db in var.database_names : "${local.glue_arn}:database/${db}"],
    [for db in var.database_names : "${local.glue_arn}:table/${db}/*"])
  }
  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.jobs.arn}:*", "${local.logs_arn}:/aws-glue/jobs/*:*"]
  }
  statement {
    sid       = "JobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role" "jobs" {
  name               = var.role_name
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json
}

resource "aws_iam_role_policy" "jobs" {
  name   = "lake-access"
  role   = aws_iam_role.jobs.id
  policy = data.aws_iam_policy_document.jobs.json
}

resource "aws_glue_job" "this" {
  #checkov:skip=CKV_AWS_195:No security configuration: the lake bucket encrypts at rest (SSE-S3) by default; encrypting logs and bookmarks needs a KMS key this stack does not create.
  for_each          = { for job in var.jobs : job.name => job }
  name              = each.value.glue_job_name
  description       = each.value.description
  role_arn          = aws_iam_role.jobs.arn
  glue_version      = var.glue_version
  worker_type       = each.value.worker_type
  number_of_workers = each.value.workers
  timeout           = each.value.timeout_minutes
  max_retries       = 0 # a failed run alerts and the next trigger retries; the jobs recover from their own state

  command {
    name            = "glueetl"
    script_location = "s3://${var.bucket_name}/${aws_s3_object.entry_script.key}"
    python_version  = "3"
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = merge(var.default_arguments, {
    "--fhirpulse_job"           = each.key
    "--extra-py-files"          = "s3://${var.bucket_name}/${aws_s3_object.library.key}"
    "--continuous-log-logGroup" = aws_cloudwatch_log_group.jobs.name
  }, length(var.python_modules) == 0 ? {} : { "--additional-python-modules" = join(",", var.python_modules) })

  depends_on = [aws_iam_role_policy.jobs, aws_s3_object.views]
}
