"""Apex tools (policies): filled in by its own change."""
