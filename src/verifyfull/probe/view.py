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


def render(run: ProbeRun, fmt: str) -> str:
    if fmt == "json":
        payload = run.report.to_json()
        payload["targets"] = [e.to_json() for e in run.endpoints]
        return json.dumps(scrub_tree(payload), indent=2) + "\n"
    if fmt == "text":
        return summary_table(run.endpoints) + text.render(run.report)
    if fmt == "sarif":
        return sarif.render(run.report)
    if fmt == "html":
        return html.render(run.report)
    raise UsageError(f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")


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
            verdict += f" (+{len(endpoint.errors)} errors)"
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
