"""What a fixer did at one site, and the change as the report shows it."""

from __future__ import annotations

from dataclasses import dataclass


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

    def __str__(self) -> str:
        rules = f" {', '.join(self.rules)}" if self.rules else ""
        return f"line {self.line}{rules}: {self.text}"


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
