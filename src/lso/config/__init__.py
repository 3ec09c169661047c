"""Configuration: schema, typed settings, parsing, cross-key checks (no torch, no numpy)."""
