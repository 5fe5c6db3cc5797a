"""Apex tools (batching): filled in by its own change."""
