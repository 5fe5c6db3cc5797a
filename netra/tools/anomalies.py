"""Apex tools (anomalies): filled in by its own change."""
