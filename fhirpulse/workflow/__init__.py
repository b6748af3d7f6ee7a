"""The workflow around the jobs, as the local stand-in for Glue's: the pipeline runner with its DynamoDB
lock and run records, Glue Job State Change events and their alert forwarder, per-run metrics in CloudWatch
Logs, and `fhirpulse watch` (S3 upload notifications -> the trigger handler -> one run per burst)."""
