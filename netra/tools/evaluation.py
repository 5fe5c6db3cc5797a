"""Apex tools (evaluation): filled in by its own change."""
