"""Storage: analytics store (ClickHouse/chDB), checkpointer factory, cache."""
