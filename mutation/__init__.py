"""Mutation testing of the core modules (`make mutation MODULE=...`); see TESTING.md."""
