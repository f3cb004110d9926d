"""Positive security from a service's OpenAPI 3.0 or 3.1 document."""
