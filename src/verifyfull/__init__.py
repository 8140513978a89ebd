"""verifyfull: TLS with verify-full between Python services and CockroachDB/PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verifyfull.policy import Policy
    from verifyfull.runtime.enforce import Enforcement

__version__ = "0.1.0"


def enforce(mode: str = "refuse", policy: Policy | None = None) -> Enforcement:
    """Judge, prove and record every database connection from now on (verifyfull.runtime).

    Imported when called: `import verifyfull` stays light for the scanner.
    """
    from verifyfull.runtime import enforce as start

    return start(mode, policy)
