"""API models, domain entities and domain errors."""
