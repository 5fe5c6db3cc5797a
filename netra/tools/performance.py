"""Apex tools (performance): filled in by its own change."""
