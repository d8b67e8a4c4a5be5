"""Built-in staff accounts: password hashes and the secrets file they live in."""
