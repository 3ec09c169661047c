"""Configuration: the schema, typed settings, parsing and cross-key checks (stdlib, yaml, jsonschema only)."""
