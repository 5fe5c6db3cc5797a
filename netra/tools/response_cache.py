"""Apex tools (response_cache): filled in by its own change."""
