"""AWS Lambda functions, each its own small package that imports nothing but the standard library and boto3."""
