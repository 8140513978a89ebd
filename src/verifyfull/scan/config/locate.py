"""Line and column helpers shared by the format parsers (1-based, as editors show)."""

from __future__ import annotations

from verifyfull.scan.api import SourceFile


def column_of(src: SourceFile, line: int, needle: str, default: int = 1) -> int:
    """1-based column of `needle` on `line`, or `default` when it is not there."""
    if not needle:
        return default
    index = src.line_text(line).find(needle)
    return index + 1 if index >= 0 else default


def line_col_at(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in text."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1
