"""Helpers shared by several test modules (imported by name: tests/ is on sys.path)."""

from __future__ import annotations


class Interrupt(Exception):
    """Stands in for a killed job."""
