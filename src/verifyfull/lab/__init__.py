"""Throwaway TLS PostgreSQL 15 servers standing in for CockroachDB secure nodes.

    from verifyfull.lab import running
    with running("secure") as server:
        dsn = server.dsn("app")          # verify-full, client certificate
See docs/lab.md for the variants and the pytest fixtures.
"""

from verifyfull.lab.harness import (
    LabCA,
    LabError,
    LabServer,
    keep_running,
    running,
    start,
    start_cluster,
)
from verifyfull.lab.variants import VARIANTS, Variant

__all__ = [
    "VARIANTS",
    "LabCA",
    "LabError",
    "LabServer",
    "Variant",
    "keep_running",
    "running",
    "start",
    "start_cluster",
]
