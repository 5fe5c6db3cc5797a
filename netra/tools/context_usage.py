"""Apex tools (context_usage): filled in by its own change."""
