"""Workload events: schema, price catalog, pricing, synthetic generator."""
