"""Orders service (deliberately insecure example for verifyfull)."""
