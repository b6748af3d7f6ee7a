output "job_names" {
  description = "Glue job name by pipeline job."
  value       = { for name, job in aws_glue_job.this : name => job.name }
}

output "role_arn" {
  description = "The jobs' IAM role."
  value       = aws_iam_role.jobs.arn
}

output "script_location" {
  description = "S3 URI of the entry script every job runs."
  value       = "s3://${var.bucket_name}/${aws_s3_object.entry_script.key}"
}

output "library_uri" {
  description = "S3 URI of the job library (--extra-py-files)."
  value       = "s3://${var.bucket_name}/${aws_s3_object.library.key}"
}
