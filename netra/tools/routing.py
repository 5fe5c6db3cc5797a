"""Apex tools (routing): filled in by its own change."""
