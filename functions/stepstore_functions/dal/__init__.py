"""Data access: the only code that knows DynamoDB, S3 and Secrets Manager."""
