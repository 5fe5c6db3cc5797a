"""Apex tools (expensive): filled in by its own change."""
