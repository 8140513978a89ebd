"""SARIF 2.1.0 view of a Report, for GitHub code scanning and other SARIF readers.

Every catalogue rule is described in tool.driver.rules (help in markdown: why,
fix, example; CWE tags; a numeric security-severity for GitHub). Results point
at the file and line (scan) or name the probe target as a logical location.
partialFingerprints hash the rule, the path and the (masked, whitespace-
collapsed) line content, not the line number, so a finding keeps its identity
when code above it moves.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from verifyfull import rules
from verifyfull.findings import Finding
from verifyfull.report.fixes import Offers, fix_kind, fix_offers
from verifyfull.report.model import Report, ReportError
from verifyfull.report.snippet import SourceCache, normalized_line
from verifyfull.rules import Rule, Severity
from verifyfull.scrub import scrub, scrub_tree

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "verifyfull/v1"
INFORMATION_URI = "https://pypi.org/project/verifyfull/"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads properties.security-severity as a CVSS-like score:
# >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _help_markdown(rule: Rule) -> str:
    cwes = ", ".join(f"[CWE-{int(c)}]({c.url})" for c in rule.cwe)
    return (
        f"**{rule.id} {rule.slug}**: {rule.title}\n\n"
        f"Severity: {rule.severity.value}. {cwes}\n\n"
        f"### Why this is bad\n{rule.why}\n\n"
        f"### Example\n```{rule.example_language}\n{rule.example}\n```\n\n"
        f"### How to fix\n{rule.fix}\n\n"
        f"```{rule.example_language}\n{rule.example_fixed}\n```\n"
    )


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    tags = ["security", *(f"external/cwe/cwe-{int(c)}" for c in rule.cwe)]
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": rule.doc, "markdown": _help_markdown(rule)},
        "helpUri": rule.cwe[0].url if rule.cwe else INFORMATION_URI,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": tags,
            "precision": "high",
            "problem.severity": _LEVEL[rule.severity],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def fingerprint(item: Finding, line_content: str) -> str:
    """Stable identity of a finding: rule, place and line content (not the line number)."""
    place = item.path if item.path is not None else f"target:{item.target or ''}"
    anchor = line_content or item.evidence or item.message
    digest = hashlib.sha256("\0".join((item.rule_id, place, anchor)).encode("utf-8"))
    return digest.hexdigest()[:32]


def _message(item: Finding) -> str:
    parts = [item.message.rstrip(".") + "."]
    if item.evidence:
        parts.append(f"Evidence: {item.evidence}.")
    parts.append(f"Fix: {item.fix or item.rule.fix}")
    return " ".join(parts)


def _uri(path: str) -> str:
    """A relative URI reference for a report path (posix separators, percent-encoded)."""
    return quote(Path(path).as_posix(), safe="/")


def _location(item: Finding) -> dict[str, list[dict[str, Any]]]:
    if item.path is None:
        target = item.target or "(unknown target)"
        logical = {"name": target, "fullyQualifiedName": target, "kind": "resource"}
        return {"locations": [{"logicalLocations": [logical]}]}
    region: dict[str, int] = {"startLine": max(item.line or 1, 1)}
    if item.column:
        region["startColumn"] = max(item.column, 1)
    physical = {
        "artifactLocation": {"uri": _uri(item.path), "uriBaseId": "%SRCROOT%"},
        "region": region,
    }
    return {"locations": [{"physicalLocation": physical}]}


def _related_locations(item: Finding) -> list[dict[str, Any]]:
    """SARIF relatedLocations: the other places the finding acts through (with ids,
    as GitHub links them from the message)."""
    found = []
    for index, other in enumerate(item.related, start=1):
        path = other.path if other.path is not None else item.path
        if path is None:
            continue
        region: dict[str, int] = {"startLine": max(other.line or 1, 1)}
        if other.column:
            region["startColumn"] = max(other.column, 1)
        found.append(
            {
                "id": index,
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(path), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                },
                "message": {"text": other.message},
            }
        )
    return found


def _notification(error: ReportError) -> dict[str, Any]:
    note: dict[str, Any] = {"level": "error", "message": {"text": error.message}}
    if error.path:
        artifact = {"artifactLocation": {"uri": _uri(error.path), "uriBaseId": "%SRCROOT%"}}
        note["locations"] = [{"physicalLocation": artifact}]
    elif error.target:
        note["locations"] = [{"logicalLocations": [{"name": error.target, "kind": "resource"}]}]
    return note


# -- fixes: what `verifyfull fix` would write for a finding (fix/offers.py) -----------


def _add_fix(result: dict[str, Any], item: Finding, offers: Offers) -> None:
    """properties.fix: safe, unsafe or none (for the rules fix rewrites), what an unsafe
    fix needs, and for a safe one the SARIF `fixes` entry with its artifactChanges. A
    change that would carry a secret (masked in the report, so wrong if applied) is
    described but not given as artifactChanges."""
    kind = fix_kind(item, offers)
    if kind is None:
        return
    result["properties"]["fix"] = kind.kind
    if kind.needs:
        result["properties"]["fixNeeds"] = list(kind.needs)
    offer = offers.get((item.path or "", item.line or 0))
    if offer is None or kind.needs or item.path is None:
        return
    texts = [r.text for r in offer.replacements]
    if any(scrub(text) != text for text in texts):
        return
    result["fixes"] = [
        {
            "description": {"text": "verifyfull fix (safe): verify-full, behaviour otherwise kept"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": _uri(item.path), "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"charOffset": r.offset, "charLength": r.length},
                            "insertedContent": {"text": r.text},
                        }
                        for r in offer.replacements
                    ],
                }
            ],
        }
    ]


def to_sarif(
    report: Report, *, root: Path | None = None, show_fixes: bool = True
) -> dict[str, Any]:
    catalogue = list(rules.all_rules())
    index = {rule.id: position for position, rule in enumerate(catalogue)}
    cache = SourceCache(root)
    offers = fix_offers(report, root) if show_fixes else None
    results = []
    for item in report.sorted_findings():
        result: dict[str, Any] = {
            "ruleId": item.rule_id,
            "ruleIndex": index[item.rule_id],
            "level": _LEVEL[item.severity],
            "message": {"text": _message(item)},
            **_location(item),
            "partialFingerprints": {
                FINGERPRINT_KEY: fingerprint(item, normalized_line(cache, item))
            },
            "properties": {"severity": item.severity.value, "evidence": item.evidence},
        }
        if item.target is not None and item.path is not None:
            result["properties"]["target"] = item.target
        if offers is not None:  # the default; scan --no-show-fixes leaves the fixer out
            _add_fix(result, item, offers)
        related = _related_locations(item)
        if related:
            result["relatedLocations"] = related
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": error.message},
            **(
                {
                    "locations": [
                        {"physicalLocation": {"artifactLocation": {"uri": _uri(error.path)}}}
                    ]
                }
                if error.path
                else {}
            ),
        }
        for error in report.errors
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "verifyfull",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(rule) for rule in catalogue],
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,  # errors are reported as notifications
                "toolExecutionNotifications": notifications,
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, *, root: Path | None = None, show_fixes: bool = True) -> str:
    document = to_sarif(report, root=root, show_fixes=show_fixes)
    return json.dumps(scrub_tree(document), indent=2) + "\n"
