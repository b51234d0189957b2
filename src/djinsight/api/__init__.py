"""The read-only REST API: views, token authentication and the OpenAPI schema."""
