"""Apex tools (savings): filled in by its own change."""
