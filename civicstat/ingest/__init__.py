"""Loading exports into the city's store: adapters, validation, districts, upsert."""
