"""Per finding: does `verifyfull fix` have a fix for it, safe or unsafe, and what it changes.

For the scan's outputs (SARIF `fixes` with `artifactChanges` for the safe ones). The
fixer is run on each reported line alone, exactly as the fix command classifies its
changes (applicability.py), without the fix command's safety net and re-scan: an offer
says what `verifyfull fix` would write for that line, which the command still checks
before writing anything.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.fix import applicability
from verifyfull.fix.plan import FIXABLE, fix_file

MAX_FILES = 200  # files with fixable findings looked at for one report (a bound on the work)


@dataclass(frozen=True)
class Replacement:
    """`length` characters at `offset` (code points of the decoded file) become `text`."""

    offset: int
    length: int
    text: str


@dataclass(frozen=True)
class Offer:
    needs: tuple[str, ...]  # empty: a safe fix
    replacements: tuple[Replacement, ...]

    @property
    def kind(self) -> str:
        return "safe" if not self.needs else "unsafe"


def _replacements(before: str, after: str) -> tuple[Replacement, ...]:
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    out = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag != "equal":
            out.append(Replacement(starts[a0], starts[a1] - starts[a0], "".join(new[b0:b1])))
    return tuple(out)


def offers(findings: Iterable[Finding], root: Path) -> dict[tuple[str, int], Offer]:
    """(path, line) -> the fix for the findings reported on that line alone."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for item in findings:
        if item.rule_id in FIXABLE and item.path and item.line:
            by_file[item.path].append(item)
    out: dict[tuple[str, int], Offer] = {}
    for relpath in sorted(by_file)[:MAX_FILES]:
        path = Path(relpath) if Path(relpath).is_absolute() else root / relpath
        for line in sorted({f.line for f in by_file[relpath] if f.line}):
            alone = fix_file(path, relpath, [f for f in by_file[relpath] if f.line == line], ())
            if alone is None:
                continue
            before = alone.before.decode("utf-8", "replace")
            after = alone.after.decode("utf-8", "replace")
            needs = applicability.needs(before, after)
            out[(relpath, line)] = Offer(needs, _replacements(before, after))
    return out
