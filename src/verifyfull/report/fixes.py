"""Per finding, for every report view: whether `verifyfull fix` has a fix, and its kind.

One computation (fix/offers.py runs the fixer on each reported line, bounded by
its MAX_FILES) shared by the text, JSON and SARIF views, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from verifyfull.findings import Finding
from verifyfull.report.model import Report

if TYPE_CHECKING:
    from verifyfull.fix.offers import Offer

Offers = Mapping[tuple[str, int], "Offer"]


@dataclass(frozen=True)
class FixKind:
    kind: str  # "safe", "unsafe" or "none" (a rule fix rewrites, but not this line)
    needs: tuple[str, ...] = ()  # what an unsafe fix needs at run time


def fix_offers(report: Report, root: Path | None) -> Offers:
    """The fix for each reported line (none without the project root to read files in)."""
    if root is None or not any(f.path for f in report.findings):
        return {}
    from verifyfull.fix.offers import offers  # the fixers load libcst: only when needed

    try:
        return offers(report.findings, root)
    except Exception:  # a fixer's bug must not cost the report; `fix` says more
        return {}


def fix_kind(item: Finding, offers: Offers) -> FixKind | None:
    """None for a finding no fixer handles (its rule is not one `fix` rewrites)."""
    from verifyfull.fix.plan import FIXABLE

    if item.rule_id not in FIXABLE or item.path is None or item.line is None:
        return None
    offer = offers.get((item.path, item.line))
    if offer is None:
        return FixKind("none")
    return FixKind(offer.kind, tuple(offer.needs))
