"""`verifyfull probe` (issue 5: not built yet)."""

from __future__ import annotations

from verifyfull.errors import UsageError


def probe_command() -> None:
    """Probe a live PostgreSQL-wire server or HTTPS API (not available yet)."""
    raise UsageError("'probe' is not available in this version", "see README's status section")
