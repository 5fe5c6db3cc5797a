"""Apex tools (forecast): filled in by its own change."""
