"""Apex tools (max_tokens): filled in by its own change."""
