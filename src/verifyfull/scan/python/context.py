"""What every Python rule sees: the parsed module, the resolver, and how to report."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from verifyfull.conninfo import ConnInfo, Driver, Verdict
from verifyfull.conninfo.redact import redact_text
from verifyfull.findings import Finding, finding
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.module import ParsedModule, Scope
from verifyfull.scan.python.resolve import Place, Resolver

EVIDENCE_LIMIT = 200


@dataclass(frozen=True)
class Site:
    """One judged connection site (kept for the agreement tests and evidence).

    Defined here, not in sites.py which makes them, so that Analysis can hold
    them without the two modules importing each other.
    """

    line: int
    column: int
    api: str  # the call's qualified name
    driver: Driver
    info: ConnInfo
    verdict: Verdict
    dsn: str | None  # the resolved connection string, when the site is one string
    notes: tuple[str, ...]


@dataclass
class Analysis:
    module: ParsedModule
    source: SourceFile
    ctx: ScanContext
    resolver: Resolver = field(default_factory=Resolver)
    findings: list[Finding] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)  # judged connection sites (for tests)
    # ids of literals handed only to parsers, redactors or mocks (credentials.py)
    inert: set[int] = field(default_factory=set)
    # (rule, line, column) already reported: one finding per rule and place
    _seen: set[tuple[str, int, int]] = field(default_factory=set)
    _lines: list[str] | None = None
    # (the syntax error's line, the lines stood in for) of a file read by tolerant.py
    stood_in: tuple[int, tuple[int, ...]] | None = None
    # index in findings -> (first, last) line of the statement it stands in, for one over
    # several lines (a suppression on any of them applies: check._suppress_over_spans)
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (line, column) of the calls whose finding stands where their URL with no TLS setting
    # is written (placement.report_at): weak at the call for sites.one_verdict
    at_written_string: set[tuple[int, int]] = field(default_factory=set)

    def place(self, node: ast.AST, scope: Scope) -> Place:
        return Place(self.module, scope, getattr(node, "lineno", 0))

    def segment(self, node: ast.AST) -> str:
        """The node's source text, passwords masked, cut to a readable length."""
        text = " ".join(self._source_segment(node).split())
        text = redact_text(text)
        if len(text) > EVIDENCE_LIMIT:
            text = text[: EVIDENCE_LIMIT - 1] + "…"
        return text

    def lines(self) -> list[str]:
        """The source lines (with their ends), split once."""
        if self._lines is None:
            self._lines = self.source.text.splitlines(keepends=True)
        return self._lines

    def _source_segment(self, node: ast.AST) -> str:
        # ast.get_source_segment splits the whole file on every call; split once.
        lines = self.lines()
        try:
            first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
            start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        except AttributeError:
            return ""
        if first < 0 or last is None or end is None or last >= len(lines):
            return ""
        chunk = [line.encode("utf-8") for line in lines[first : last + 1]]
        if first == last:
            return chunk[0][start:end].decode("utf-8", "replace")
        chunk[0], chunk[-1] = chunk[0][start:], chunk[-1][:end]
        return b"".join(chunk).decode("utf-8", "replace")

    def report(
        self,
        rule_id: str,
        node: ast.AST,
        message: str,
        *,
        evidence: str | None = None,
        fix: str = "",
    ) -> None:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1
        key = (rule_id, line, column)
        if key in self._seen:
            return
        self._seen.add(key)
        end_line = getattr(node, "end_lineno", None)
        if end_line is not None and end_line > line:
            self.spans[len(self.findings)] = (line, end_line)
        self.findings.append(
            finding(
                rule_id,
                message,
                evidence=self.segment(node) if evidence is None else evidence,
                fix=fix,
                path=self.source.relpath,
                line=line,
                column=column,
            )
        )
