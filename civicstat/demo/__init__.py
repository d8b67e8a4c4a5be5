"""Riverton, the generated demo city."""
