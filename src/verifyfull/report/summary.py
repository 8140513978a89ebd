"""The summary line of a report, the one wording every command prints.

`3 findings (1 high, 2 medium) in 2 of 40 files; 1 could not be checked`: the text
view shows it (styled) under the findings, and `-q/--quiet` of scan, probe and
certs check prints it alone. Kept free of rich so `scan -q` does not pay for
importing it; the text view adds colour to the same pieces (`pieces`).
"""

from __future__ import annotations

from dataclasses import dataclass

from verifyfull.report.model import Report
from verifyfull.rules import Severity


@dataclass(frozen=True)
class Piece:
    """One run of the summary's text; `severity` names the style the text view gives it,
    `problem` marks the "could not be checked" tail."""

    text: str
    severity: Severity | None = None
    problem: bool = False


def files_phrase(report: Report) -> str:
    """`2 of 40 files` (the files with findings, of the files examined), or `40 files`
    when none has one, as Ruff and Bandit users read a summary."""
    examined = f"{report.files} file{'s' if report.files != 1 else ''}"
    with_findings = len({f.path for f in report.findings if f.path})
    return f"{with_findings} of {examined}" if 0 < with_findings < report.files else examined


def pieces(report: Report) -> list[Piece]:
    """The summary line as runs of text, in order."""
    counts = report.by_severity()
    total = len(report.findings)
    out = [Piece(f"{total} finding{'s' if total != 1 else ''}")]
    if counts:
        shown = [s for s in Severity if s.value in counts]
        out.append(Piece(" ("))
        for index, severity in enumerate(shown):
            if index:
                out.append(Piece(", "))
            out.append(Piece(f"{counts[severity.value]} {severity.value}", severity))
        out.append(Piece(")"))
    places = []
    if report.files or not report.targets:  # a probe examines targets, not files
        places.append(files_phrase(report))
    if report.targets:
        places.append(f"{report.targets} target{'s' if report.targets != 1 else ''}")
    out.append(Piece(f" in {', '.join(places)}"))
    if report.errors:
        out.append(Piece(f"; {len(report.errors)} could not be checked", problem=True))
    return out


def summary_line(report: Report) -> str:
    """The summary line, plain."""
    return "".join(piece.text for piece in pieces(report))


def quiet_line(report: Report) -> str:
    """What --quiet prints: the summary line alone, or nothing when there is nothing
    to report (no finding, nothing that could not be checked)."""
    if not report.findings and not report.errors:
        return ""
    return summary_line(report) + "\n"
