"""StepStore's events: what the DynamoDB streams and S3 notifications publish to the event bus.

`schema` is the contract subscribers rely on (see docs/events.md); `records` maps stream records
and S3 notifications to events; `publisher` puts them on the bus; `stream` and `s3_notifications`
are the two Lambda handlers.
"""
