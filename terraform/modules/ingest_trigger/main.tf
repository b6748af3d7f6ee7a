# Raw uploads -> an SQS queue: the trigger's event source. On AWS the trigger Lambda reads it with a
# batching window (a burst of uploads = one batch = one workflow run); locally `fhirpulse watch` polls it.
resource "aws_sqs_queue" "uploads" {
  name                       = var.queue_name
  visibility_timeout_seconds = var.visibility_timeout_seconds
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
