"""fix never weakens a connection: every planned edit is checked before anything is written.

One mechanism for every codemod and config fixer (it looks at what the edits do, not
at how they were made). All planned edits are written into a private copy of the
project; every connection site of the tree is judged there and compared with the same
site in an unedited copy (census.py): the edited files' own sites, and every site that
reads what they changed (a DSN constant imported from an edited module is resolved from
the edited copy). When no site is worse, the plan stands. Otherwise the edits are taken
one file at a time, and within a file one reported line at a time (the fixer is run
again on that line alone, so an edit and the imports or context it needs stay
together); an edit is kept only if, added to those already kept, no site gets worse.
What is dropped is listed for a person, with the site it would weaken and how.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.fix import census
from verifyfull.fix.model import FileFix, Refusal
from verifyfull.fix.workspace import inside, project_copy
from verifyfull.policy import Policy
from verifyfull.scan.config.envfile import parse_env
from verifyfull.scan.settings import ScanSettings

# Re-plan one file with only these findings: the FileFix, or None when nothing applies.
Refix = Callable[[str, Sequence[Finding]], FileFix | None]


@dataclass(frozen=True)
class Screened:
    kept: tuple[FileFix, ...]
    refused: tuple[Refusal, ...]
    censuses: int  # how many times the tree was judged (the cost, for tests)


class _Judge:
    """Judges sets of edits against the unedited tree, in one private copy of it: an
    edit set is written in, judged, and the copy put back."""

    def __init__(
        self, copy: Path, files: Sequence[str], policy: Policy, config: Sequence[str]
    ) -> None:
        self.copy = copy
        self.python = [f for f in files if f.endswith(".py")]
        self.policy = policy
        self.config = tuple(config)
        self.count = 0
        self._ticks = itertools.count(1)
        self.before = self._take()

    def _take(self) -> census.Census:
        self.count += 1
        values = _dotenv_values(self.copy, self.config)
        pg = {k: v for k, v in values.items() if k.startswith("PG")}
        return census.take(
            self.copy, self.python, self.config, policy=self.policy, env=pg, values=values
        )

    def _write(self, relpath: str, data: bytes) -> None:
        target = self.copy / inside(relpath)
        target.write_bytes(data)
        # A new mtime for every version: parsed modules are cached by path and mtime,
        # and two writes within one clock tick would otherwise look the same.
        stamp = time.time_ns() + next(self._ticks) * 1_000_000_000
        os.utime(target, ns=(stamp, stamp))

    def worse(self, fixes: Sequence[FileFix]) -> list[tuple[census.SiteKey, str]]:
        originals = {fix.relpath: (self.copy / fix.relpath).read_bytes() for fix in fixes}
        try:
            for fix in fixes:
                self._write(fix.relpath, fix.after)
            after = self._take()
        finally:
            for relpath, data in originals.items():
                self._write(relpath, data)
        return census.regressions(self.before, after)

    def explain(self, worse: list[tuple[census.SiteKey, str]]) -> str:
        key, why = worse[0]
        line = self.before.get(key, census.SiteState(0, judged=False)).line
        where = f"{key.relpath}:{line}" if line else key.relpath
        site = "the connection string" if key.api == "config" else f"{key.api}()"
        more = f" (and {len(worse) - 1} more site(s))" if len(worse) > 1 else ""
        return f"it would weaken {site} at {where}, which {why}{more}"


def _dotenv_values(root: Path, config: Sequence[str]) -> dict[str, str]:
    """The variables the edited .env files set (as the copy holds them now): code that
    reads them is judged with these values, and PG* ones are the drivers' environment.
    Several files setting one variable: the last in path order wins (a stand-in for
    whichever the deployment loads)."""
    values: dict[str, str] = {}
    for relpath in sorted(config):
        name = Path(relpath).name.lower()
        if not (name.startswith(".env") or name.endswith(".env")):
            continue
        try:
            text = (root / relpath).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        values.update({s.key: s.value for s in parse_env(text)})
    return values


def screen(
    settings: ScanSettings,
    policy: Policy,
    fixes: Sequence[FileFix],
    findings: Mapping[str, Sequence[Finding]],
    refix: Refix,
) -> Screened:
    """The fixes that weaken no site (re-planned with fewer lines where needed), and a
    refusal for each reported line dropped. `findings`: the fixable findings per file."""
    if not fixes:
        return Screened((), (), 0)
    config = [inside(fix.relpath) for fix in fixes if not fix.relpath.endswith(".py")]
    for fix in fixes:
        inside(fix.relpath)  # a file outside the project cannot be judged in its copy
    with project_copy(settings, {}) as (copy, files):
        missing = [fix for fix in fixes if not (copy / fix.relpath).is_file()]
        if missing:  # a file the copy lacks cannot be judged in it
            raise ValueError(f"{missing[0].relpath} is not in the scanned tree")
        judge = _Judge(copy, files, policy, config)
        return _screen(judge, fixes, findings, refix)


def _screen(
    judge: _Judge,
    fixes: Sequence[FileFix],
    findings: Mapping[str, Sequence[Finding]],
    refix: Refix,
) -> Screened:
    if not judge.worse(fixes):
        return Screened(tuple(fixes), (), judge.count)
    kept: list[FileFix] = []
    refused: list[Refusal] = []
    # Code first: a call given its own SSLContext no longer depends on the environment a
    # config edit changes.
    for fix in sorted(fixes, key=lambda f: (not f.relpath.endswith(".py"), f.relpath)):
        worse = judge.worse([*kept, fix])
        if not worse:
            kept.append(fix)
            continue
        accepted, dropped = _by_line(judge, kept, fix, findings.get(fix.relpath, ()), refix)
        if accepted is not None:
            kept.append(accepted)
        refused += dropped
    return Screened(tuple(sorted(kept, key=lambda f: f.relpath)), tuple(refused), judge.count)


def _by_line(
    judge: _Judge,
    kept: Sequence[FileFix],
    fix: FileFix,
    findings: Sequence[Finding],
    refix: Refix,
) -> tuple[FileFix | None, list[Refusal]]:
    """The file's fix re-planned with only the reported lines that weaken nothing alone
    (None when none is left, or when together they still weaken a site)."""
    lines = sorted({f.line for f in findings if f.line})
    safe: list[int] = []
    why: dict[int, str] = {}
    for line in lines:
        alone = refix(fix.relpath, [f for f in findings if f.line == line])
        if alone is None:
            continue
        worse = judge.worse([*kept, alone])
        if worse:
            why[line] = judge.explain(worse)
        else:
            safe.append(line)
    accepted = refix(fix.relpath, [f for f in findings if f.line in safe]) if safe else None
    if accepted is not None:
        worse = judge.worse([*kept, accepted])
        if worse:
            reason = judge.explain(worse) + " (with the other fixes of the file)"
            why.update(dict.fromkeys(safe, reason))
            accepted = None
    refusals = [
        Refusal(
            fix.relpath,
            reason,
            line=line,
            rules=tuple(sorted({f.rule_id for f in findings if f.line == line})),
        )
        for line, reason in sorted(why.items())
    ]
    return accepted, refusals
