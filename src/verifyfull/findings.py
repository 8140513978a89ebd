"""The one result type every part reports: a rule hit at a place or a target.

Frozen, and built only from redacted evidence. Rule metadata (slug, severity,
CWE) is looked up in the catalogue, never copied by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifyfull import rules
from verifyfull.rules import Rule, Severity


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
        }


def finding(rule_id: str, message: str, **where: Any) -> Finding:
    """Build a Finding, checking the id against the catalogue at once."""
    rules.get(rule_id)
    return Finding(rule_id=rule_id, message=message, **where)
