# Keyed like spark_jobs/bronze/ledger.py writes it: the object key, then its content version (ETag:size),
# so a re-upload with new content is a new item and the same upload is found again.
resource "aws_dynamodb_table" "ledger" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is var.point_in_time_recovery: the root turns it on for target=aws (emulators have none).
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts at rest with an AWS-owned key; ledger items are object keys, counts and commit times, no PHI.
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "object_key"
  range_key    = "content_version"

  attribute {
    name = "object_key"
    type = "S"
  }
  attribute {
    name = "content_version"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }
}
