# The lake bucket: private, encrypted at rest, versioned on real AWS, and no abandoned multipart uploads.
# fhirpulse/stack/provision.py applies the same settings to an emulator's bucket.
resource "aws_s3_bucket" "lake" {
  #checkov:skip=CKV_AWS_18:Access logs would need a second bucket; CloudTrail data events are the place to audit object access when required.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage; the lake is rebuilt from raw uploads and the tables from bronze.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts at rest without a KMS key's cost and key policy.
  #checkov:skip=CKV2_AWS_62:Raw-prefix notifications are declared by the ingest_trigger module.
  #checkov:skip=CKV_AWS_21:Versioning is aws_s3_bucket_versioning below, toggled by enable_versioning (on for real AWS).
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "lake" {
  count  = var.enable_versioning ? 1 : 0
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_upload_days
    }
  }

  dynamic "rule" {
    for_each = var.enable_versioning ? [1] : []
    content {
      id     = "expire-old-versions"
      status = "Enabled"
      filter {}
      noncurrent_version_expiration {
        noncurrent_days = var.noncurrent_version_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}
