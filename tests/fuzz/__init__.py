"""Schemathesis fuzzing of the HTTP API (the harness is `scripts/fuzz.py`)."""
