"""`verifyfull fix` (issue 6: not built yet)."""

from __future__ import annotations

from verifyfull.errors import UsageError


def fix_command() -> None:
    """Rewrite insecure connection settings into verify-full (not available yet)."""
    raise UsageError("'fix' is not available in this version", "see README's status section")
