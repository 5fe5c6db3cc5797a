"""Apex tools (prompt_cache): filled in by its own change."""
