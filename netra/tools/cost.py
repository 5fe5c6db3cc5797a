"""Apex tools (cost): filled in by its own change."""
