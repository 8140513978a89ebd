"""What a fixer did at one site, the change as the report shows it, a file's planned fix,
and an edit refused for a person."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from verifyfull.fix.applicability import describe
from verifyfull.fix.apply import Stamp
from verifyfull.fix.settings_source import SettingsSource


@dataclass(frozen=True)
class Action:
    """One edit a fixer made, at the lines of the site it fixed (1-based, inclusive)."""

    first_line: int
    last_line: int
    text: str


@dataclass(frozen=True)
class Change:
    """An edit as reported: where, for which findings, what."""

    line: int
    rules: tuple[str, ...]
    text: str
    # what the fixed program needs at run time that it did not (applicability.py):
    # empty for a safe fix, applied by default; an unsafe one only with --unsafe-fixes
    needs: tuple[str, ...] = ()
    last_line: int = 0  # the last line of the site (0: `line` alone)

    @property
    def safe(self) -> bool:
        return not self.needs

    def __str__(self) -> str:
        rules = f" {', '.join(self.rules)}" if self.rules else ""
        return f"line {self.line}{rules}: {self.text} [{describe(self.needs)}]"


@dataclass(frozen=True)
class Refusal:
    """An edit the fixer planned but will not make, for a person to do (one line why)."""

    relpath: str
    reason: str
    line: int | None = None
    rules: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.relpath}:{self.line}" if self.line else self.relpath
        rules = f" ({', '.join(self.rules)})" if self.rules else ""
        return f"{where}{rules}: not fixed: {self.reason}"


@dataclass(frozen=True)
class Declined:
    """A file none of whose reported sites the fixer edited, some of them left for a person
    with the reason (a connection string whose shape is not known here)."""

    refused: tuple[Refusal, ...]


@dataclass(frozen=True)
class FileFix:
    path: Path  # absolute
    relpath: str
    before: bytes
    after: bytes
    changes: tuple[Change, ...]
    rules: tuple[str, ...]  # the reported rules on the edited lines
    secret_lines: tuple[str, ...] = ()  # lines the scanner saw a password on: never shown
    stamp: Stamp | None = None  # the file as read: the write refuses if it changed since
    # the pydantic Settings object the fixed code reads its certificate files from
    settings: SettingsSource | None = None
    # reported sites of the file the fixer left as they are, each for a person
    declined: tuple[Refusal, ...] = ()

    def line_before(self, line: int) -> int:
        """The line of the file before the fix that line `line` of the fixed file comes
        from (lines the fix inserted map to the next original line)."""
        before = self.before.splitlines()
        after = self.after.splitlines()
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, a_start, _, b_start, b_end in matcher.get_opcodes():
            if b_start < line <= b_end:
                if tag == "equal":
                    return a_start + (line - b_start)
                return min(a_start + 1, max(len(before), 1))
        return line
