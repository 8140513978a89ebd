"""The seed's FastAPI + CockroachDB service, rewritten with verifyfull.guard."""
