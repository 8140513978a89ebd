"""`verifyfull scan` (issue 4: not built yet)."""

from __future__ import annotations

from verifyfull.errors import UsageError


def scan_command() -> None:
    """Scan code and config for insecure database TLS settings (not available yet)."""
    raise UsageError("'scan' is not available in this version", "see README's status section")
