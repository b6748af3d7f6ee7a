variable "topic_name" {
  description = "SNS topic that receives job failure alerts."
  type        = string
}

variable "rule_name" {
  description = "EventBridge rule matching Glue Job State Change events that end badly."
  type        = string
}

variable "event_pattern" {
  description = "EventBridge event pattern (JSON) of the job runs that raise an alert."
  type        = string

  validation {
    condition     = can(jsondecode(var.event_pattern))
    error_message = "event_pattern must be a JSON document."
  }
}

variable "test_queue_name" {
  description = "Optional SQS queue subscribed to the topic (null: none)."
  type        = string
  default     = null
}

variable "relay_queue_name" {
  description = "Emulators only: the rule targets this SQS queue and a forwarder publishes to the topic (moto's EventBridge cannot deliver to SNS). null = the rule targets the topic."
  type        = string
  default     = null
}
