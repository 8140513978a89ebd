"""The one result type every part reports: a rule hit at a place or a target.

Frozen, and built only from redacted evidence. Rule metadata (slug, severity,
CWE) is looked up in the catalogue, never copied by hand.

A finding is reported once, where the deciding value is written; the other
places it acts through (the connection calls that use a weakened SSLContext,
the other lines that weaken it) are its `related` locations (JSON `related`,
SARIF `relatedLocations`), not copies of the finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifyfull import rules
from verifyfull.rules import Rule, Severity


@dataclass(frozen=True)
class Related:
    """Another place a finding acts through, and what happens there (redacted)."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class Finding:
    rule_id: str
    message: str
    evidence: str = ""
    fix: str = ""
    path: str | None = None
    line: int | None = None
    column: int | None = None
    target: str | None = None
    severity_override: Severity | None = field(default=None, compare=False)
    related: tuple[Related, ...] = field(default=(), compare=False)

    @property
    def rule(self) -> Rule:
        return rules.get(self.rule_id)

    @property
    def severity(self) -> Severity:
        return self.severity_override or self.rule.severity

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of DESIGN.md."""
        rule = self.rule
        return {
            "rule": rule.id,
            "slug": rule.slug,
            "severity": self.severity.value,
            "cwe": [int(c) for c in rule.cwe],
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "target": self.target,
            "evidence": self.evidence,
            "fix": self.fix or rule.fix,
            # present only when the finding acts through other places (the contract's
            # other keys are unchanged for every finding without them)
            **({"related": [r.to_json() for r in self.related]} if self.related else {}),
        }


def finding(rule_id: str, message: str, **where: Any) -> Finding:
    """Build a Finding, checking the id against the catalogue at once."""
    rules.get(rule_id)
    return Finding(rule_id=rule_id, message=message, **where)
