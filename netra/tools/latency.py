"""Apex tools (latency): filled in by its own change."""
