"""The Report: findings plus the errors met on the way, and the exit status they imply."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from verifyfull import __version__
from verifyfull.findings import Finding
from verifyfull.rules import Severity


@dataclass(frozen=True)
class ReportError:
    """Something that could not be checked (unreadable file, unreachable target)."""

    message: str
    path: str | None = None
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        where: dict[str, Any] = (
            {"path": self.path} if self.target is None else {"target": self.target}
        )
        return {**where, "message": self.message}


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = ()
    errors: tuple[ReportError, ...] = ()
    files: int = 0  # files examined (scan, certs check)
    targets: int = 0  # targets examined (probe)
    tool_version: str = field(default=__version__)

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts[s] for s in Severity if counts[s]}

    def sorted_findings(self) -> list[Finding]:
        """Stable order: place (path or target, line, column), then rule id."""
        return sorted(
            self.findings,
            key=lambda f: (f.path or f.target or "", f.line or 0, f.column or 0, f.rule_id),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of DESIGN.md."""
        summary: dict[str, Any] = {
            "files": self.files,
            "findings": len(self.findings),
            "by_severity": self.by_severity(),
        }
        if self.targets:
            summary["targets"] = self.targets
        return {
            "tool": "verifyfull",
            "version": self.tool_version,
            "findings": [f.to_json() for f in self.sorted_findings()],
            "errors": [e.to_json() for e in self.errors],
            "summary": summary,
        }


def exit_code(report: Report, fail_on: Severity) -> int:
    """0: nothing at or above fail_on; 1: findings at or above it; 2: nothing failed but
    something could not be checked (a security check that silently skipped is not a pass)."""
    if any(f.severity.at_least(fail_on) for f in report.findings):
        return 1
    if report.errors:
        return 2
    return 0
