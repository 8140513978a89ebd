"""verifyfull: TLS with verify-full between Python services and CockroachDB/PostgreSQL."""

__version__ = "0.1.0"
