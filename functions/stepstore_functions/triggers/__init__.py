"""Event-driven flows: Lambda functions that EventBridge rules invoke with StepStore events."""
