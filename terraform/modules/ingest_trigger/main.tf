# Raw uploads -> an SQS queue: the trigger's event source. On AWS the trigger Lambda reads it with a
# batching window (a burst of uploads = one batch = one workflow run); locally `fhirpulse watch` polls it.
resource "aws_sqs_queue" "uploads" {
  name                       = var.queue_name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  sqs_managed_sse_enabled    = true
}

data "aws_iam_policy_document" "s3_to_queue" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = ["arn:aws:s3:::${var.bucket_name}"]
    }
  }
}

resource "aws_sqs_queue_policy" "uploads" {
  queue_url = aws_sqs_queue.uploads.id
  policy    = data.aws_iam_policy_document.s3_to_queue.json
}

resource "aws_s3_bucket_notification" "raw_uploads" {
  bucket = var.bucket_name

  queue {
    id            = "raw-uploads"
    queue_arn     = aws_sqs_queue.uploads.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "${var.raw_prefix}/"
  }

  depends_on = [aws_sqs_queue_policy.uploads]
}

# The trigger Lambda (lambdas/ingest_trigger, zipped by `fhirpulse package`): the uploads queue is its event
# source. Its role may start this one workflow, consume this one queue (what an SQS event source needs) and
# write its own log group — nothing else.
resource "aws_cloudwatch_log_group" "trigger" {
  #checkov:skip=CKV_AWS_158:The trigger logs object counts and run ids, no PHI; a CMK adds cost and key policy.
  #checkov:skip=CKV_AWS_338:Retention is the config's workflow.log_retention_days (30 days by default).
  count             = var.enable_lambda ? 1 : 0
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "trigger" {
  count = var.enable_lambda ? 1 : 0
  statement {
    sid       = "StartTheWorkflow"
    actions   = ["glue:StartWorkflowRun"]
    resources = [var.workflow_arn]
  }
  statement {
    sid       = "ConsumeUploads"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.uploads.arn]
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trigger[0].arn}:*"]
  }
}

resource "aws_iam_role" "trigger" {
  count              = var.enable_lambda ? 1 : 0
  name               = var.function_name
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_iam_role_policy" "trigger" {
  count  = var.enable_lambda ? 1 : 0
  name   = "start-workflow"
  role   = aws_iam_role.trigger[0].id
  policy = data.aws_iam_policy_document.trigger[0].json
}

resource "aws_lambda_function" "trigger" {
  #checkov:skip=CKV_AWS_116:Failed batches go back to the uploads queue and are retried after its visibility timeout; a DLQ would drop uploads from the next run.
  #checkov:skip=CKV_AWS_117:The function calls only the Glue API; no VPC resources to reach, and a VPC would need NAT or endpoints.
  #checkov:skip=CKV_AWS_173:Its environment holds names only (workflow, bucket, prefix), no secrets.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile; the zip is built reproducibly from the repo and its hash is tracked.
  #checkov:skip=CKV_AWS_50:X-Ray tracing would add a write permission the function does not otherwise need.
  count                          = var.enable_lambda ? 1 : 0
  function_name                  = var.function_name
  description                    = "Raw FHIR uploads -> one run of the ${var.workflow_name} workflow per burst"
  role                           = aws_iam_role.trigger[0].arn
  runtime                        = "python3.12"
  handler                        = "handler.handler"
  filename                       = var.package_path
  source_code_hash               = fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
  timeout                        = 30
  memory_size                    = 128
  reserved_concurrent_executions = 1 # one batch at a time: the workflow allows one run anyway

  environment {
    variables = {
      WORKFLOW_NAME = var.workflow_name
      RAW_BUCKET    = var.bucket_name
      RAW_PREFIX    = var.raw_prefix
    }
  }

  lifecycle {
    precondition {
      condition     = fileexists(var.package_path)
      error_message = "${var.package_path} is missing: build it with `fhirpulse package` (or `make package`) first."
    }
  }

  depends_on = [aws_iam_role_policy.trigger, aws_cloudwatch_log_group.trigger]
}

# A burst of uploads within the batching window arrives as one batch = one workflow run.
resource "aws_lambda_event_source_mapping" "uploads" {
  count                              = var.enable_lambda ? 1 : 0
  event_source_arn                   = aws_sqs_queue.uploads.arn
  function_name                      = aws_lambda_function.trigger[0].arn
  batch_size                         = 1000
  maximum_batching_window_in_seconds = var.batching_window_seconds
}
