"""`verifyfull explain` (being built: see conninfo)."""

from __future__ import annotations

from verifyfull.errors import UsageError


def explain_command() -> None:
    """Explain what a driver will really do with a connection string."""
    raise UsageError("'explain' is not available in this version", "see README's status section")
