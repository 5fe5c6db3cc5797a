"""Apex tools (cost_simulation): filled in by its own change."""
