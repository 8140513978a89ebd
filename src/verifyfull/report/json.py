"""JSON view of a Report (DESIGN.md contract); every string in it is scrubbed.

A finding of a rule `verifyfull fix` rewrites also says whether this line has an
automatic fix and of which kind (`autofix`: safe, unsafe or none; `autofix_needs`
for an unsafe one), from report/fixes.py, as the SARIF view does (`fix` stays the
fix a person reads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verifyfull.report.fixes import FixKind, fix_kind, fix_offers
from verifyfull.report.model import Report
from verifyfull.scrub import scrub_tree


def render(report: Report, *, root: Path | None = None, show_fixes: bool = False) -> str:
    """`show_fixes` (scan --show-fixes): run the fixer on each reported line to say
    whether it has an automatic fix (costs a libcst pass per file with findings)."""
    document = report.to_json()
    if show_fixes:
        offers = fix_offers(report, root)
        for item, entry in zip(report.sorted_findings(), document["findings"], strict=True):
            _add_fix(entry, fix_kind(item, offers))
    return json.dumps(scrub_tree(document), indent=2, sort_keys=False) + "\n"


def _add_fix(entry: dict[str, Any], kind: FixKind | None) -> None:
    if kind is None:
        return
    entry["autofix"] = kind.kind
    if kind.needs:
        entry["autofix_needs"] = list(kind.needs)
