"""Source lines shown next to findings (text and HTML views), with secrets masked.

A report shows code so a reader sees the problem in place, but the code is
where hard-coded passwords live: every line shown goes through `mask_line`,
and lines that belong to a password finding (VF401/VF402) lose every literal.
Key material (PEM bodies) is never shown. Every line also goes through
verifyfull.scrub, which masks each secret any parser met during the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.scrub import scrub

MASK = "***"
_MAX_BYTES = 2_000_000  # files larger than this are not read for context
_MAX_WIDTH = 240
_MAX_PARENTS = 8

# user:password@ in any URL.
# name = value, name: value, name=value where the name says it is secret.
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<head>[\w.\-\"']*(?:pass(?:word|wd)?|pwd|secret|token|api_?key|private_?key)"
    r"[\w.\-\"']*(?:\s*[=:]\s*|\s+))(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&)#]+)",
    re.IGNORECASE,
)
_NOT_SECRET_NAME = re.compile(r"encryption|_file\b|file[\"']?\s*[=:]|method", re.IGNORECASE)
_STRING = re.compile(r"(?P<q>[\"'])(?:\\.|(?!(?P=q)).)*(?P=q)")
_AFTER_ASSIGN = re.compile(r"(?P<head>[=:]\s*)(?P<value>[^\s\"'#][^\s#]*)")
_BASE64_BLOB = re.compile(r"^\s*[A-Za-z0-9+/=]{32,}\s*$")
_SECRET_RULES = frozenset({"VF401", "VF402"})


def _mask_assignment(match: re.Match[str]) -> str:
    head = match.group("head")
    if _NOT_SECRET_NAME.search(head):  # password_encryption = md5, DB_PASSWORD_FILE=path
        return match.group()
    return f"{head}{MASK}"


def mask_line(text: str, *, aggressive: bool = False, cut: int | None = None) -> str:
    """The line with URL passwords and secret-named values masked; `aggressive`
    also masks every string literal and every unquoted assigned value, and
    `cut` (a 1-based column where a secret starts) masks the rest of the line."""
    if _BASE64_BLOB.match(text) or ("PRIVATE KEY" in text and "-----" not in text):
        return MASK
    if cut is not None and 0 < cut <= len(text):
        text = text[: cut - 1] + MASK
    # Registered secrets and URL/keyword password shapes (scrub's), before the
    # line's own patterns: one that misreads a password (a space or quote inside
    # it) would leave a piece the registry no longer recognises.
    text = scrub(text)
    text = _SECRET_ASSIGNMENT.sub(_mask_assignment, text)
    if aggressive:
        text = _STRING.sub(lambda m: f"{m.group('q')}{MASK}{m.group('q')}", text)
        text = _AFTER_ASSIGN.sub(lambda m: f"{m.group('head')}{MASK}", text)
    if len(text) > _MAX_WIDTH:
        text = text[:_MAX_WIDTH] + "…"
    return text


def masked_for_fingerprint(text: str) -> str:
    """What a baseline fingerprint hashes: the line with every literal and assigned
    value masked whatever the rule, since a password may sit on any finding's line
    (a hash of a line that held one would let it be guessed offline)."""
    return mask_line(text, aggressive=True)


@dataclass
class SourceCache:
    """Reads each reported file once; unreadable, huge or binary files give no lines."""

    root: Path | None = None
    _files: dict[str, list[str] | None] = field(default_factory=dict)

    def lines(self, path: str) -> list[str] | None:
        if path not in self._files:
            self._files[path] = self._read(path)
        return self._files[path]

    def _locate(self, path: str) -> Path | None:
        """The file a report path names: under `root` when given; else under the
        current directory or the nearest parent holding it (report paths are
        relative to the project root, which may be above the current directory)."""
        given = Path(path)
        if given.is_absolute():
            return given
        if self.root is not None:
            return self.root / given
        here = Path.cwd()
        for base in (here, *here.parents[:_MAX_PARENTS]):
            if (base / given).is_file():
                return base / given
        return None

    def _read(self, path: str) -> list[str] | None:
        candidate = self._locate(path)
        try:
            if candidate is None or not candidate.is_file():
                return None
            if candidate.stat().st_size > _MAX_BYTES:
                return None
            data = candidate.read_bytes()
        except OSError:
            return None
        if b"\0" in data[:8192] or b"PRIVATE KEY-----" in data:
            return None
        return data.decode("utf-8", errors="replace").splitlines()


def secret_lines(findings: Iterable[Finding]) -> dict[tuple[str, int], int]:
    """(path, line) of every line a password finding points at -> the first column
    such a finding names (the secret starts there or later)."""
    lines: dict[tuple[str, int], int] = {}
    for f in findings:
        if f.rule_id in _SECRET_RULES and f.path is not None and f.line is not None:
            key = (f.path, f.line)
            lines[key] = min(lines.get(key, f.column or 1), f.column or 1)
    return lines


def context(
    cache: SourceCache,
    item: Finding,
    secret: dict[tuple[str, int], int],
    *,
    around: int = 0,
) -> list[tuple[int, str]]:
    """(line number, masked text) for the finding's line and `around` lines each side."""
    if item.path is None or item.line is None:
        return []
    lines = cache.lines(item.path)
    if not lines or item.line > len(lines):
        return []
    first = max(1, item.line - around)
    last = min(len(lines), item.line + around)
    return [
        (
            n,
            mask_line(
                lines[n - 1],
                aggressive=(item.path, n) in secret,
                cut=secret.get((item.path, n)),
            ),
        )
        for n in range(first, last + 1)
    ]


def normalized_line(cache: SourceCache, item: Finding) -> str:
    """The finding's line, masked and with whitespace collapsed (for fingerprints)."""
    if item.path is None or item.line is None:
        return ""
    lines = cache.lines(item.path)
    if not lines or item.line > len(lines):
        return ""
    secret = item.rule_id in _SECRET_RULES
    text = mask_line(lines[item.line - 1], aggressive=secret, cut=item.column if secret else None)
    return " ".join(text.split())
