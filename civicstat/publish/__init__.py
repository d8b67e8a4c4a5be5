"""Building the internal and public snapshots from the store and swapping them in."""
