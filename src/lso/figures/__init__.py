"""Figures: pure functions from arrays and tables to matplotlib figures (no torch)."""
