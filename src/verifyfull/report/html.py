"""HTML view of a Report: one self-contained page (inline CSS, no script, no fetches).

Summary by severity and by rule, then every finding grouped by file or
target with its code context (secrets masked, see snippet.py), evidence and
fix; each rule's full doc folds out with <details>, which needs no script.
Every piece of text from the report is scrubbed (verifyfull.scrub) and escaped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from html import escape as _html_escape
from itertools import groupby
from pathlib import Path

from verifyfull import rules
from verifyfull.findings import Finding, Related
from verifyfull.report.model import Report
from verifyfull.report.snippet import SourceCache, context, secret_lines
from verifyfull.rules import Severity
from verifyfull.scrub import scrub

# A probed target as the page shows it: its name, what kind of server, its facts.
TargetFacts = tuple[str, str, Sequence[tuple[str, str]]]

_COLOURS = {
    Severity.CRITICAL: "#b71c1c",
    Severity.HIGH: "#e65100",
    Severity.MEDIUM: "#f9a825",
    Severity.LOW: "#0277bd",
    Severity.INFO: "#607d8b",
}

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; background: #f5f6f8; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c5cad6; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 40px 60px; }
h2 { font-size: 19px; margin: 32px 0 12px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border-radius: 8px; padding: 12px 18px; min-width: 120px;
        border-top: 5px solid var(--c); box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card b { display: block; font-size: 26px; }
table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 8px;
        overflow: hidden; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid #e6e8ee; }
th { background: #eceef3; font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
         font-size: 12px; font-weight: 600; text-transform: uppercase; background: var(--c); }
section.place { margin-top: 20px; }
section.place > h3 { font: 600 15px ui-monospace, SFMono-Regular, Menlo, monospace;
                     margin: 0 0 8px; word-break: break-all; }
article { background: #fff; border-left: 5px solid var(--c); border-radius: 6px;
          padding: 12px 16px; margin: 0 0 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
article .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
article .where { font-family: ui-monospace, monospace; color: #5a6275; }
article .message { margin: 6px 0; }
pre.code { background: #1d2330; color: #e6e9f0; padding: 8px 0; border-radius: 6px;
           overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.code span { display: block; padding: 0 12px; white-space: pre; }
pre.code span.hit { background: #5c2b2b; }
pre.code i { color: #8a92a6; font-style: normal; display: inline-block; min-width: 4em; }
.label { color: #5a6275; font-weight: 600; }
.fix { background: #e8f5e9; border-radius: 4px; padding: 6px 10px; margin-top: 6px; }
pre.fixcode { margin: 6px 0 0; white-space: pre; overflow-x: auto; background: #f5f6f8;
              padding: 6px 8px; border-radius: 4px; font: 13px/1.45 ui-monospace, monospace; }
.evidence code { background: #eceef3; padding: 1px 4px; border-radius: 3px;
                 word-break: break-all; }
details { margin-top: 6px; } summary { cursor: pointer; color: #3949ab; }
details pre { white-space: pre-wrap; background: #f5f6f8; padding: 8px; border-radius: 4px; }
.errors li { font-family: ui-monospace, monospace; }
.none { background: #e8f5e9; padding: 12px 16px; border-radius: 6px; }
footer { color: #8a92a6; font-size: 12px; margin-top: 40px; }
"""


def escape(text: str) -> str:
    """A piece of the page: secrets masked before HTML-escaping (masking after would
    miss a secret whose escaped form differs, and could cut an entity in two)."""
    return _html_escape(scrub(text))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _badge(severity: Severity) -> str:
    colour = _COLOURS[severity]
    return f'<span class="badge" style="--c:{colour}">{escape(severity.value)}</span>'


def _place(item: Finding) -> str:
    return item.path or item.target or "(no location)"


def _summary(report: Report) -> str:
    counts = report.by_severity()
    cards = "".join(
        f'<div class="card" style="--c:{_COLOURS[s]}"><b>{counts.get(s.value, 0)}</b>'
        f"{escape(s.value)}</div>"
        for s in Severity
    )
    by_rule = Counter(f.rule_id for f in report.findings)
    rows = "".join(
        f"<tr><td><a href='#rule-{r.id}'>{escape(r.id)}</a></td><td>{escape(r.slug)}</td>"
        f"<td>{_badge(r.severity)}</td><td>{escape(r.title)}</td>"
        f"<td>{', '.join(f'CWE-{int(c)}' for c in r.cwe)}</td><td>{by_rule[r.id]}</td></tr>"
        for r in rules.all_rules()
        if by_rule[r.id]
    )
    table = (
        "<table><thead><tr><th>Rule</th><th>Slug</th><th>Severity</th><th>Title</th>"
        f"<th>CWE</th><th>Findings</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="none">No findings.</p>'
    )
    return (
        f"<h2>Summary by severity</h2><div class='cards'>{cards}</div>"
        f"<h2>Summary by rule</h2>{table}"
    )


def _fix_html(fix: str) -> str:
    """The fix's first line as prose; the lines after it (a corrected connection
    string, code) in a <pre> that keeps them as lines and copies as they are."""
    first, _, rest = fix.partition("\n")
    if not rest.strip():
        return escape(first)
    return f'{escape(first)}<pre class="fixcode">{escape(rest)}</pre>'


def _finding(
    item: Finding, cache: SourceCache, secret: dict[tuple[str, int], int], anchors: set[str]
) -> str:
    rule = item.rule
    where = f"line {item.line}, column {item.column or 1}" if item.line else escape(_place(item))
    code_lines = context(cache, item, secret, around=2)
    code = ""
    if code_lines:
        spans = "".join(
            f'<span class="{"hit" if n == item.line else ""}"><i>{n}</i>{escape(text)}</span>'
            for n, text in code_lines
        )
        code = f'<pre class="code">{spans}</pre>'
    evidence = (
        f'<div class="evidence"><span class="label">Evidence</span> '
        f"<code>{escape(item.evidence)}</code></div>"
        if item.evidence
        else ""
    )
    related = "".join(  # the other places the finding acts through (findings.Related)
        '<div class="evidence"><span class="label">Related</span> '
        f"<code>{escape(_related_text(item, other))}</code></div>"
        for other in item.related
    )
    anchor = ""
    if rule.id not in anchors:
        anchors.add(rule.id)
        anchor = f' id="rule-{escape(rule.id)}"'
    return (
        f'<article{anchor} style="--c:{_COLOURS[item.severity]}">'
        f'<div class="head">{_badge(item.severity)}<strong>{escape(rule.id)}</strong>'
        f"<span>{escape(rule.slug)}</span><span class='where'>{where}</span></div>"
        f'<div class="message">{escape(item.message)}</div>{code}{evidence}{related}'
        f'<div class="fix"><span class="label">Fix</span> {_fix_html(item.fix or rule.fix)}</div>'
        f"<details><summary>About {escape(rule.id)}</summary><pre>{escape(rule.doc)}</pre>"
        "</details></article>"
    )


def _related_text(item: Finding, other: Related) -> str:
    return f"{other.path or item.path or '-'}:{other.line or 1} {other.message}"


def _facts_html(targets: Sequence[TargetFacts]) -> str:
    """The probe's per-target facts (what each server answered), one table each."""
    tables = []
    for name, kind, facts in targets:
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
        body = f"<table>{rows}</table>" if rows else '<p class="none">No answer.</p>'
        tables.append(f"<h3>{escape(name)} <small>({escape(kind)})</small></h3>{body}")
    return f"<h2>What each target answered</h2>{''.join(tables)}" if tables else ""


def render(report: Report, *, root: Path | None = None, targets: Sequence[TargetFacts] = ()) -> str:
    """The report as one self-contained page; `targets`: the probe's facts per target."""
    cache = SourceCache(root)
    secret = secret_lines(report.findings)
    anchors: set[str] = set()
    sections = []
    for place, items in groupby(report.sorted_findings(), key=_place):
        body = "".join(_finding(item, cache, secret, anchors) for item in items)
        sections.append(f'<section class="place"><h3>{escape(place)}</h3>{body}</section>')
    errors = ""
    if report.errors:
        entries = "".join(
            f"<li>{escape(e.path or e.target or '-')}: {escape(e.message)}</li>"
            for e in report.errors
        )
        errors = f'<h2>Could not be checked</h2><ul class="errors">{entries}</ul>'
    total = len(report.findings)
    places = [_count(report.files, "file")] if report.files or not report.targets else []
    if report.targets:  # a probe examines targets, not files
        places.append(_count(report.targets, "target"))
    where = ", ".join(places)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    findings_html = "".join(sections) or '<p class="none">Nothing to report.</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>verifyfull report: {total} findings</title><style>{_CSS}</style></head>"
        f"<body><header><h1>verifyfull report</h1><p>{_count(total, 'finding')} in {where}"
        f"{f'; {len(report.errors)} could not be checked' if report.errors else ''}"
        f" · verifyfull {escape(report.tool_version)} · {stamp}</p></header><main>"
        f"{_summary(report)}{_facts_html(targets)}<h2>Findings</h2>{findings_html}{errors}"
        "<footer>Generated by verifyfull. Passwords and key material are masked.</footer>"
        "</main></body></html>\n"
    )
