"""Netra: an agent service that tells teams where LLM money and latency go."""

__version__ = "0.1.0"
