"""Errors a user can act on: one line naming the problem and the fix.

The CLI prints `str(error)` alone (no traceback) and exits 2. Messages must
never contain a password or key material: build them from redacted values.
"""

from __future__ import annotations


class VerifyfullError(Exception):
    """Base class: a problem with the user's input or environment, stated in one line."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


class UsageError(VerifyfullError):
    """Bad command-line input or configuration."""


class InsecureConfigurationError(VerifyfullError):
    """A connection setting the policy refuses; carries the catalogue rule id."""

    def __init__(self, rule_id: str, problem: str, fix: str | None = None) -> None:
        self.rule_id = rule_id
        super().__init__(f"{rule_id}: {problem}", fix)
