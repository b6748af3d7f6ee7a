resource "aws_sns_topic" "alerts" {
  #checkov:skip=CKV_AWS_26:EventBridge cannot publish to a topic encrypted with the AWS-managed SNS key; a CMK with a key policy for events.amazonaws.com is the alternative, at a cost. Alerts carry job names and errors, no PHI.
  name = var.topic_name
}

# Only the job-failure rule may publish (fhirpulse/stack/policies.py builds the same document).
data "aws_iam_policy_document" "events_publish" {
  statement {
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.job_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.events_publish.json
}

resource "aws_cloudwatch_event_rule" "job_failed" {
  name          = var.rule_name
  description   = "Glue job runs that end badly -> alerts topic"
  event_pattern = var.event_pattern
}

# The rule delivers to the topic; on an emulator that cannot (moto), to the relay queue, which
# fhirpulse.workflow.events.forward_alerts drains into the topic.
resource "aws_cloudwatch_event_target" "alerts" {
  rule      = aws_cloudwatch_event_rule.job_failed.name
  target_id = "alerts"
  arn       = var.relay_queue_name == null ? aws_sns_topic.alerts.arn : aws_sqs_queue.this["relay"].arn
}

# The module's queues, each with the one sender its policy allows (fhirpulse/stack/policies.py's allow_service):
# the relay queue takes the failure rule's events, the test queue the topic's messages.
locals {
  queues = merge(
    var.relay_queue_name == null ? {} : {
      relay = { name = var.relay_queue_name, service = "events.amazonaws.com", source_arn = aws_cloudwatch_event_rule.job_failed.arn }
    },
    var.test_queue_name == null ? {} : {
      test = { name = var.test_queue_name, service = "sns.amazonaws.com", source_arn = aws_sns_topic.alerts.arn }
    },
  )
}

resource "aws_sqs_queue" "this" {
  for_each                = local.queues
  name                    = each.value.name
  sqs_managed_sse_enabled = true
}

data "aws_iam_policy_document" "send" {
  for_each = local.queues
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[each.key].arn]
    principals {
      type        = "Service"
      identifiers = [each.value.service]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [each.value.source_arn]
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each  = local.queues
  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.send[each.key].json
}

resource "aws_sns_topic_subscription" "test" {
  count     = var.test_queue_name == null ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.this["test"].arn
}

# State written before the two queues shared one block.
moved {
  from = aws_sqs_queue.relay[0]
  to   = aws_sqs_queue.this["relay"]
}

moved {
  from = aws_sqs_queue.test[0]
  to   = aws_sqs_queue.this["test"]
}

moved {
  from = aws_sqs_queue_policy.relay[0]
  to   = aws_sqs_queue_policy.this["relay"]
}

moved {
  from = aws_sqs_queue_policy.test[0]
  to   = aws_sqs_queue_policy.this["test"]
}
