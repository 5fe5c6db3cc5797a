"""Apex tools (throughput): filled in by its own change."""
