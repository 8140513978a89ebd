"""Baselines: record today's findings, then report only new ones.

A finding's fingerprint is a hash of its rule, its file and the normalised
text of its source line, never its line number, so findings survive code
moving up or down. Identical lines in one file are told apart by their
occurrence order. The file holds hashes only: no evidence, no source text,
so a baseline never carries a password.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from verifyfull.errors import UsageError
from verifyfull.findings import Finding

FORMAT_VERSION = 1

LineText = Callable[[Finding], str]


def fingerprint(finding: Finding, line_text: str) -> str:
    normalised = re.sub(r"\s+", " ", line_text).strip()
    material = "\0".join((finding.rule_id, finding.path or finding.target or "", normalised))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _occurrence_fingerprints(findings: Iterable[Finding], line_text: LineText) -> list[str]:
    seen: Counter[str] = Counter()
    result: list[str] = []
    for item in findings:
        base = fingerprint(item, line_text(item))
        seen[base] += 1
        result.append(f"{base}:{seen[base]}")
    return result


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (f.path or f.target or "", f.line or 0, f.column or 0, f.rule_id)
    )


def write(path: Path, findings: Iterable[Finding], line_text: LineText) -> int:
    ordered = _ordered(findings)
    entries = [
        {"fingerprint": fp, "rule": f.rule_id, "path": f.path}
        for f, fp in zip(ordered, _occurrence_fingerprints(ordered, line_text), strict=True)
    ]
    document = {"tool": "verifyfull", "baseline_version": FORMAT_VERSION, "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write baseline {path}: {exc.strerror}", "choose a writable path"
        ) from None
    return len(entries)


def load(path: Path) -> frozenset[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"baseline {path} does not exist", "create it with --write-baseline"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"baseline {path} is unreadable ({type(exc).__name__})",
            "regenerate it with --write-baseline",
        ) from None
    entries = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise UsageError(
            f"baseline {path} is not a verifyfull baseline", "regenerate it with --write-baseline"
        )
    return frozenset(e["fingerprint"] for e in entries)


def new_findings(
    findings: Iterable[Finding], known: frozenset[str], line_text: LineText
) -> list[Finding]:
    """The findings whose fingerprint the baseline does not hold."""
    ordered = _ordered(findings)
    fingerprints = _occurrence_fingerprints(ordered, line_text)
    return [f for f, fp in zip(ordered, fingerprints, strict=True) if fp not in known]
