"""Apex tools (retries): filled in by its own change."""
