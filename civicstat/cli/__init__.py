"""The `civicstat` command."""
