"""Findings reported where their deciding value is written keep the suppressions and
baseline entries written for the connection calls they act through.

A finding is reported once, at the written value (a getenv default, a config dict in
another module), with the calls that use it as `related` locations (findings.py).
Projects suppressed or baselined such findings at the call, where they used to be
reported; moving the report must not bring every one of them back. So a finding is
also silenced when a suppression naming its rule stands on *every* one of its related
locations, and also baselined when *every* related location's fingerprint is in the
baseline. "Every": a value used by two calls, only one of them suppressed, still
reaches the other call, and that call's problem is not silenced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from verifyfull.findings import Finding, Related
from verifyfull.scan import suppress
from verifyfull.scan.api import SourceFile

# A file read to check a related location larger than this is not read (a work bound:
# the scanner read it once already under the same limit, normally much smaller).
_MAX_READ = 4 * 1024 * 1024


class RelatedFiles:
    """The text and suppressions of the files related locations name (read once)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._sources: dict[str, SourceFile | None] = {}
        # a file's suppressions, parsed once (None: the file is not read): asked for
        # each related place of each finding, a text search per ask grew with the square
        # of a module's findings
        self._marks: dict[str, suppress.Suppressions | None] = {}

    def source(self, relpath: str) -> SourceFile | None:
        if relpath not in self._sources:
            self._sources[relpath] = self._read(relpath)
        return self._sources[relpath]

    def _read(self, relpath: str) -> SourceFile | None:
        path = self._root / relpath
        try:
            if path.stat().st_size > _MAX_READ:
                return None
            data = path.read_bytes()
            return SourceFile(path, relpath, data.decode("utf-8"), data)
        except (OSError, UnicodeDecodeError):
            return None

    def line_text(self, place: Related) -> str | None:
        source = self.source(place.path) if place.path else None
        if source is None or not place.line:
            return None
        return source.line_text(place.line)

    def suppressed(self, rule_id: str, place: Related) -> bool:
        if not place.path:
            return False
        if place.path not in self._marks:
            source = self.source(place.path)
            self._marks[place.path] = suppress.parse(source.text) if source else None
        marks = self._marks[place.path]
        return marks is not None and marks.silences(rule_id, place.line)


def silenced_at_calls(
    findings: Iterable[Finding], files: RelatedFiles
) -> tuple[list[Finding], int]:
    """The findings left once those suppressed on every related location are dropped,
    and how many were dropped."""
    kept: list[Finding] = []
    dropped = 0
    for item in findings:
        if item.related and all(files.suppressed(item.rule_id, r) for r in item.related):
            dropped += 1
            continue
        kept.append(item)
    return kept, dropped


def as_at_related(item: Finding, place: Related) -> Finding:
    """The finding as if reported at `place` (to look up the fingerprint it had there)."""
    return replace(item, path=place.path, line=place.line, column=place.column, related=())


def baselined_at_calls(
    fresh: Iterable[Finding],
    files: RelatedFiles,
    known_at: Callable[[Finding, str], bool],
) -> tuple[list[Finding], int]:
    """Of the findings the baseline does not hold where they are reported, those whose
    every related location it holds (`known_at(finding_there, line_text)`) are dropped."""
    kept: list[Finding] = []
    dropped = 0
    for item in fresh:
        texts = [files.line_text(r) for r in item.related]
        if (
            item.related
            and all(text is not None for text in texts)
            and all(
                known_at(as_at_related(item, r), text or "")
                for r, text in zip(item.related, texts, strict=True)
            )
        ):
            dropped += 1
            continue
        kept.append(item)
    return kept, dropped
