"""Apex tools (cache_audit): filled in by its own change."""
