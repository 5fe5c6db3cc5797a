"""Apex tools (kv_cache): filled in by its own change."""
