"""Errors a user can act on: one line naming the problem and the fix.

The CLI prints `str(error)` alone (no traceback) and exits 2. Messages must
never contain a password or key material: build them from redacted values.
As a last line of defence the message is scrubbed when the error is built (so
the guard's refusals carry no registered secret wherever they are printed or
logged), and the CLI scrubs the line again when it prints it.
"""

from __future__ import annotations

from verifyfull.scrub import scrub


class VerifyfullError(Exception):
    """Base class: a problem with the user's input or environment, stated in one line."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        problem, fix = scrub(problem), (scrub(fix) if fix else fix)
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
