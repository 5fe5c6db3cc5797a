"""Apex tools (report): filled in by its own change."""
