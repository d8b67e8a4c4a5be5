"""Adapters: one per export format, each mapping a source's records to the canonical schema."""
