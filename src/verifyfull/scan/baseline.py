"""Baselines: record today's findings, then report only new ones.

A finding's fingerprint hashes its rule, its file and its source line with
every secret masked (every string literal and assigned value, every
registered secret: report.snippet.masked_for_fingerprint), never its line
number, so findings survive code moving up or down. Identical lines in one
file are told apart by their occurrence order. The hash is an HMAC keyed by a
random salt kept in the file: no precomputed table applies, and since the
hashed text holds no secret, guessing lines offline recovers none.

Format 2 (written): {"tool": "verifyfull", "baseline_version": 2, "salt": hex,
"findings": [{"fingerprint", "rule", "path"}]}. Format 1 (unsalted SHA-256 of
the raw line, which a password could be recovered from) is still read, so an
old baseline keeps working until it is rewritten; it is never written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from verifyfull.errors import UsageError
from verifyfull.findings import Finding
from verifyfull.report.snippet import masked_for_fingerprint

FORMAT_VERSION = 2
_READABLE = (1, 2)
_SALT_BYTES = 16

LineText = Callable[[Finding], str]


@dataclass(frozen=True)
class Baseline:
    """What a baseline file holds: its format, its salt and the fingerprints."""

    fingerprints: frozenset[str]
    version: int = FORMAT_VERSION
    salt: bytes = b""


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fingerprint(finding: Finding, line_text: str, salt: bytes) -> str:
    """Format 2: HMAC-SHA256(salt, rule, place, masked line)."""
    masked = _normalised(masked_for_fingerprint(line_text))
    material = "\0".join((finding.rule_id, finding.path or finding.target or "", masked))
    digest = hmac.new(salt, material.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:32]


def _legacy_fingerprint(finding: Finding, line_text: str) -> str:
    """Format 1, only to compare with an old file (never written again)."""
    material = "\0".join(
        (finding.rule_id, finding.path or finding.target or "", _normalised(line_text))
    )
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _occurrence_fingerprints(
    findings: Iterable[Finding], line_text: LineText, baseline: Baseline
) -> list[str]:
    seen: Counter[str] = Counter()
    result: list[str] = []
    for item in findings:
        if baseline.version == 1:
            base = _legacy_fingerprint(item, line_text(item))
        else:
            base = fingerprint(item, line_text(item), baseline.salt)
        seen[base] += 1
        result.append(f"{base}:{seen[base]}")
    return result


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (f.path or f.target or "", f.line or 0, f.column or 0, f.rule_id)
    )


def write(path: Path, findings: Iterable[Finding], line_text: LineText) -> int:
    ordered = _ordered(findings)
    fresh = Baseline(frozenset(), FORMAT_VERSION, secrets.token_bytes(_SALT_BYTES))
    entries = [
        {"fingerprint": fp, "rule": f.rule_id, "path": f.path}
        for f, fp in zip(ordered, _occurrence_fingerprints(ordered, line_text, fresh), strict=True)
    ]
    document = {
        "tool": "verifyfull",
        "baseline_version": FORMAT_VERSION,
        "salt": fresh.salt.hex(),
        "findings": entries,
    }
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write baseline {path}: {exc.strerror}", "choose a writable path"
        ) from None
    return len(entries)


def _not_a_baseline(path: Path, why: str) -> UsageError:
    return UsageError(f"baseline {path} {why}", "regenerate it with --write-baseline")


def load(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"baseline {path} does not exist", "create it with --write-baseline"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _not_a_baseline(path, f"is unreadable ({type(exc).__name__})") from None
    entries = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise _not_a_baseline(path, "is not a verifyfull baseline")
    assert isinstance(document, dict)
    version = document.get("baseline_version", 1)
    if version not in _READABLE:
        raise _not_a_baseline(path, f"has format {version!r}, which this version cannot read")
    salt = b""
    if version == 2:
        try:
            salt = bytes.fromhex(str(document.get("salt", "")))
        except ValueError:
            salt = b""
        if len(salt) < _SALT_BYTES:
            raise _not_a_baseline(path, "has no valid salt")
    return Baseline(frozenset(e["fingerprint"] for e in entries), version, salt)


def new_findings(
    findings: Iterable[Finding], known: Baseline, line_text: LineText
) -> list[Finding]:
    """The findings whose fingerprint the baseline does not hold."""
    ordered = _ordered(findings)
    fingerprints = _occurrence_fingerprints(ordered, line_text, known)
    return [f for f, fp in zip(ordered, fingerprints, strict=True) if fp not in known.fingerprints]


def holds_at(known: Baseline) -> Callable[[Finding, str], bool]:
    """Whether the baseline holds a finding at a place whose line reads `line_text`,
    whatever its occurrence number there (for findings that moved from that place:
    scan/relocated.py)."""
    bases = frozenset(fp.split(":", 1)[0] for fp in known.fingerprints)

    def holds(finding: Finding, line_text: str) -> bool:
        if known.version == 1:
            return _legacy_fingerprint(finding, line_text) in bases
        return fingerprint(finding, line_text, known.salt) in bases

    return holds
