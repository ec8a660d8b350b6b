"""StepStore's Lambda code: handlers over logic over data access."""
