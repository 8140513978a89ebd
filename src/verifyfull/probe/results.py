"""What probing one endpoint yields: facts for the summary, findings, error lines."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from verifyfull.findings import Finding, finding
from verifyfull.wire.net import Deadline


@dataclass(frozen=True)
class Fact:
    """One observed answer, reported whether it is good or bad (the summary table's cells)."""

    name: str
    value: str


@dataclass(frozen=True)
class EndpointResult:
    target: str  # as shown to the user: host:port or URL, never with a password
    kind: str  # postgresql, cockroachdb, postgresql-wire (unidentified), https, http
    facts: tuple[Fact, ...] = ()
    findings: tuple[Finding, ...] = ()
    errors: tuple[str, ...] = ()
    seconds: float = field(default=0.0, compare=False)

    def fact(self, name: str) -> str | None:
        return next((f.value for f in self.facts if f.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "facts": {f.name: f.value for f in self.facts},
            "findings": len(self.findings),
            "errors": list(self.errors),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Collector:
    """Gathers one endpoint's facts, findings and errors while its checks run."""

    label: str
    facts: list[Fact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def fact(self, name: str, value: str) -> None:
        self.facts.append(Fact(name, value))

    def find(self, rule_id: str, message: str, evidence: str = "", fix: str = "") -> None:
        self.findings.append(
            finding(rule_id, message, target=self.label, evidence=evidence, fix=fix)
        )

    def result(self, kind: str, seconds: float) -> EndpointResult:
        return EndpointResult(
            target=self.label,
            kind=kind,
            facts=tuple(self.facts),
            findings=tuple(self.findings),
            errors=tuple(self.errors),
            seconds=seconds,
        )


def cut_short(result: EndpointResult, deadline: Deadline) -> EndpointResult:
    """A target that ran out of time says so in one line, not in one error per check.

    Every check shares the target's deadline, so when it passes they all stop
    at once and each would say so: the errors that quote one of the
    deadline's timeouts become one "timed out" line; other errors stay, and
    so do the facts and findings seen before it passed (each is a complete
    answer).
    """
    timeouts = deadline.timeouts
    caused = [e for e in result.errors if any(t in e for t in timeouts)]
    if not caused:
        return result
    others = tuple(e for e in result.errors if e not in caused)
    line = f"timed out: the probe did not finish within {deadline.seconds:g} s ({timeouts[0]})"
    return replace(result, errors=(*others, line))
