"""Apex tools (cache_policy): filled in by its own change."""
