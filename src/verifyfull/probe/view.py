"""Render a probe run: the shared report views plus the probe's summary table.

The findings are rendered by verifyfull.report's views, like the scanner's;
the probe adds what only it has: one summary row per endpoint (text) and the
per-endpoint facts (a "targets" list next to the DESIGN.md JSON object).
What a server sent (banners, headers, messages) and what the user typed (a
DSN) is scrubbed of secrets and, in text, has its control characters escaped.
"""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from verifyfull.errors import UsageError
from verifyfull.probe.results import EndpointResult
from verifyfull.probe.runner import ProbeRun
from verifyfull.report import html, sarif, text
from verifyfull.scrub import scrub_tree
from verifyfull.terminal import shown

FORMATS = ("text", "json", "sarif", "html")

# Facts shown as summary columns (header, fact names in order of preference).
_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TLS", ("SSLRequest", "negotiated")),
    ("versions", ("TLS versions",)),
    ("plaintext", ("plain HTTP",)),
)


def render(run: ProbeRun, fmt: str, *, verbose: bool = False) -> str:
    """`verbose` (text): every fact per target after the table, as JSON has them."""
    if fmt == "json":
        payload = run.report.to_json()
        payload["targets"] = [e.to_json() for e in run.endpoints]
        return json.dumps(scrub_tree(payload), indent=2) + "\n"
    if fmt == "text":
        facts = facts_text(run.endpoints) if verbose else ""
        return summary_table(run.endpoints) + facts + text.render(run.report)
    if fmt == "sarif":
        return sarif.render(run.report)
    if fmt == "html":
        targets = [(e.target, e.kind, [(f.name, f.value) for f in e.facts]) for e in run.endpoints]
        return html.render(run.report, targets=targets)
    raise UsageError(f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")


def facts_text(endpoints: tuple[EndpointResult, ...]) -> str:
    """Every fact of every target (certificate subject, SANs, expiry, issuer, key and
    signature; protocol and cipher per TLS version; per-user results), one per line."""
    lines: list[str] = []
    for endpoint in endpoints:
        lines.append(shown(f"{endpoint.target} ({endpoint.kind})"))
        width = max((len(f.name) for f in endpoint.facts), default=0)
        lines.extend(shown(f"  {f.name:<{width}}  {f.value}") for f in endpoint.facts)
        if not endpoint.facts:
            lines.append("  (no answer)")
        lines.append("")
    return "\n".join(lines) + "\n"


def summary_table(endpoints: tuple[EndpointResult, ...]) -> str:
    table = Table(title="verifyfull probe", show_lines=False)
    table.add_column("target")
    table.add_column("server")
    for header, _ in _COLUMNS:
        table.add_column(header, overflow="fold")
    table.add_column("findings")
    table.add_column("time")
    for endpoint in endpoints:
        rules = sorted({f.rule_id for f in endpoint.findings})
        cells = [_cell(endpoint, names) for _, names in _COLUMNS]
        verdict = ", ".join(rules) or "none"
        if endpoint.errors:
            count = len(endpoint.errors)
            verdict += f"; {count} error{'s' if count != 1 else ''}"
        row = (endpoint.target, endpoint.kind, *cells, verdict, f"{endpoint.seconds:.2f}s")
        table.add_row(*(Text(shown(cell)) for cell in row))  # Text: no markup
    buffer = io.StringIO()
    Console(file=buffer, width=120, no_color=True, highlight=False).print(table)
    return buffer.getvalue()


def _cell(endpoint: EndpointResult, names: tuple[str, ...]) -> str:
    for name in names:
        value = endpoint.fact(name)
        if value is not None:
            return value if len(value) <= 28 else value[:25] + "..."
    if names[0] == "plain HTTP":
        return _plaintext_cell(endpoint)
    return "-"


def _plaintext_cell(endpoint: EndpointResult) -> str:
    """PostgreSQL: the plaintext StartupMessage verdicts, in one word."""
    verdicts = {f.value.split(":", 1)[0] for f in endpoint.facts if f.name.startswith("plaintext ")}
    if not verdicts:
        return "-"
    if verdicts & {"authenticates", "lets-in"}:
        return "ACCEPTED"
    return "refused"
