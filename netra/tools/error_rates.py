"""Apex tools (error_rates): filled in by its own change."""
