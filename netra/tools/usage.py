"""Apex tools (usage): filled in by its own change."""
