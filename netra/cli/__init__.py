"""The `netra` command line."""
