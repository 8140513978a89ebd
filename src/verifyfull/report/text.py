"""Text view of a Report: findings grouped by file (or probe target), with the code line.

Colours only when writing to a terminal (and NO_COLOR unset); the same text
without escape codes otherwise, so CI logs and files stay readable. Every
piece taken from the scanned files, a server or the user (place, message, code,
evidence, fix, errors) is scrubbed of secrets and has its control characters
spelled out (verifyfull.terminal) before the view adds its own styling.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

from rich.console import Console
from rich.text import Text

from verifyfull.findings import Finding
from verifyfull.report.fixes import FixKind, fix_kind, fix_offers
from verifyfull.report.model import Report
from verifyfull.report.snippet import SourceCache, context, secret_lines
from verifyfull.report.summary import pieces as summary_pieces
from verifyfull.rules import Severity
from verifyfull.terminal import shown

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_WIDTH = 110


_CONTINUATION = " " * 11  # under the text after "      fix: "


def _wants_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _place(item: Finding) -> str:
    return item.path or item.target or "(no location)"


def _groups(report: Report) -> Iterator[tuple[str, list[Finding]]]:
    for place, items in groupby(report.sorted_findings(), key=_place):
        yield place, list(items)


def _summary(report: Report) -> Text:
    """The summary line (verifyfull.report.summary), with the severities coloured."""
    text = Text()
    for piece in summary_pieces(report):
        if piece.severity is not None:
            text.append(piece.text, SEVERITY_STYLE[piece.severity])
        elif piece.problem:
            text.append(piece.text, "bold magenta")
        else:
            text.append(piece.text)
    return text


def _block(label: Text, body: str) -> Text:
    """`label` + body, each further line of body indented under the first: a
    multi-line fix (its corrected form) stays inside its finding."""
    first, *rest = shown(body).split("\n")
    text = label + Text(first)
    for line in rest:
        text.append("\n" + (_CONTINUATION + line if line.strip() else ""))
    return text


def render(
    report: Report,
    *,
    color: bool | None = None,
    root: Path | None = None,
    show_fixes: bool = False,
) -> str:
    """The report as text; `root` resolves relative finding paths for code lines."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=_WIDTH,
        force_terminal=_wants_color() if color is None else color,
        no_color=not (_wants_color() if color is None else color),
        highlight=False,
        soft_wrap=True,
    )
    cache = SourceCache(root)
    secret = secret_lines(report.findings)
    offers = fix_offers(report, root) if show_fixes else None
    for place, items in _groups(report):
        console.print(Text(shown(place), "bold underline"))
        for item in items:
            _finding(console, cache, secret, item)
            if offers is not None:  # scan --show-fixes
                _autofix(console, fix_kind(item, offers))
        console.print()
    if report.errors:
        console.print(Text("Could not be checked", "bold magenta"))
        for error in report.errors:
            where = error.path or error.target or "-"
            console.print(Text(f"  {shown(where)}: {shown(error.message)}"))
        console.print()
    console.print(_summary(report))
    return out.getvalue()


def _autofix(console: Console, kind: FixKind | None) -> None:
    """Whether `verifyfull fix` rewrites this line, and with which flag."""
    if kind is None:
        return
    if kind.kind == "safe":
        said = "safe: `verifyfull fix` applies it"
    elif kind.kind == "unsafe":
        said = f"unsafe (needs {', '.join(kind.needs)}): `verifyfull fix --unsafe-fixes`"
    else:
        said = "none for this line: the fix above is for a person"
    console.print(Text("      autofix: ", "green") + Text(shown(said)))


def _finding(
    console: Console, cache: SourceCache, secret: dict[tuple[str, int], int], item: Finding
) -> None:
    rule = item.rule
    line = Text("  ")
    if item.line is not None:
        line.append(f"{item.line}:{item.column or 1}", "bold")
        line.append("  ")
    line.append(f"{rule.id}", "bold")
    line.append(" ")
    line.append(f"{item.severity.value:<8}", SEVERITY_STYLE[item.severity])
    line.append(f" {rule.slug}", "dim")
    console.print(line)
    console.print(Text(f"      {shown(item.message)}"))
    for number, code in context(cache, item, secret):
        console.print(Text(f"      {number:>5} | ", "dim") + Text(shown(code), "cyan"))
    if item.evidence:
        console.print(_block(Text("      evidence: ", "dim"), item.evidence))
    for other in item.related:  # the other places it acts through (one finding, not copies)
        where = f"{other.path or item.path or '-'}:{other.line or 1}"
        console.print(_block(Text("      related: ", "dim"), f"{where} {other.message}"))
    console.print(_block(Text("      fix: ", "green"), item.fix or rule.fix))
