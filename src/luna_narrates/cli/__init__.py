"""The `luna` command line."""
