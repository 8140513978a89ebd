"""Every connection site of a tree and what its driver will really do there.

Taken before and after a fix (fix/safety.py compares them): for Python, each call the
scanner recognises as a connection site, with conninfo's verdict (tls never/maybe/
always, chain and host name checked, what breaks); for config files, each line that
carries a transport finding, read back from the scanner's findings (a config line
reports exactly the rule its verdict breaks, policy.transport_rule).

A site is keyed by file, call and its rank among the calls of that name in the file
(a fix inserts statements but never adds, removes or reorders connection calls), so
the same site is found again after lines moved. A site the scanner cannot judge
(its DSN is built elsewhere, the file no longer parses) is kept as "not judged":
a judged site that becomes not judged counts as worse.
"""

from __future__ import annotations

import ast
import hashlib
import tokenize
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from verifyfull.conninfo import Environment, Verdict, evaluate
from verifyfull.errors import VerifyfullError
from verifyfull.findings import Finding
from verifyfull.fix import envreads
from verifyfull.policy import DEFAULT_POLICY, Policy, TLSUse
from verifyfull.scan import engine
from verifyfull.scan.api import CheckSkipped, ScanContext, SourceFile
from verifyfull.scan.python import module as pymodule
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import ParsedModule
from verifyfull.scan.python.prefilter import plan
from verifyfull.scan.python.sites import site_api
from verifyfull.scan.settings import load

_TLS_RANK = {TLSUse.NEVER: 0, TLSUse.MAYBE: 1, TLSUse.ALWAYS: 2}
# Rules a site can newly raise without its tls/chain/host name changing: an old TLS floor
# (VF106), weak ciphers (VF107). (VF105 is a crash, compared as `breaks`, or a setting
# the driver ignores, which weakens nothing when the site is verified.)
_SIDE_RULES = frozenset({"VF106", "VF107"})
# The transport rule a config line reports -> (tls, chain checked, host name checked).
_FROM_RULE = {
    "VF101": (TLSUse.NEVER, False, False),
    "VF102": (TLSUse.MAYBE, False, False),
    "VF103": (TLSUse.ALWAYS, False, False),
    "VF104": (TLSUse.ALWAYS, True, False),
}
_CONFIG_RULES = frozenset(_FROM_RULE) | _SIDE_RULES | {"VF105"}


@dataclass(frozen=True, order=True)
class SiteKey:
    relpath: str
    api: str  # the call's qualified name; "config" for a config line
    rank: int  # the rank among the file's calls of that name; the line for config
    part: int = 0  # the verdict's rank within the call (a Tortoise config has several)


@dataclass(frozen=True)
class SiteState:
    line: int
    judged: bool
    tls: TLSUse = TLSUse.MAYBE
    chain: bool = False
    hostname: bool = False
    breaks: str | None = None
    side: frozenset[str] = frozenset()  # VF105-VF107 raised at the site

    @classmethod
    def of(cls, line: int, verdict: Verdict) -> SiteState:
        if not verdict.determined:
            return cls(line, judged=False)
        return cls(
            line,
            True,
            verdict.tls,
            verdict.verifies_chain,
            verdict.verifies_hostname,
            verdict.breaks,
            frozenset(verdict.rule_ids) & _SIDE_RULES,
        )

    @classmethod
    def of_findings(cls, line: int, rules: Iterable[str]) -> SiteState:
        found = set(rules)
        transport = sorted(found & set(_FROM_RULE))
        verified = (TLSUse.ALWAYS, True, True)
        tls, chain, hostname = _FROM_RULE[transport[0]] if transport else verified
        breaks = "VF105" if "VF105" in found else None
        return cls(line, True, tls, chain, hostname, breaks, frozenset(found & _SIDE_RULES))

    def describe(self) -> str:
        if not self.judged:
            return "not judged statically"
        if self.breaks is not None:
            return f"fails at connect ({self.breaks})"
        if self.tls is TLSUse.NEVER:
            return "plaintext"
        if self.tls is TLSUse.MAYBE:
            return "TLS with a plaintext fallback"
        if not self.chain:
            return "TLS without a certificate check"
        if not self.hostname:
            return "verify-ca (host name not checked)"
        return "verify-full"

    def worse_than(self, before: SiteState) -> str | None:
        """Why this state is worse than `before` (None when it is not)."""
        if not before.judged:
            # Nothing was known: only a site that is now fully verified is known not worse.
            if self.judged and self.breaks is None and self.hostname and not self.side:
                return None
            return f"was not judged statically and would be {self.describe()}"
        if not self.judged:
            return f"was {before.describe()} and could no longer be judged"
        lost = (
            _TLS_RANK[self.tls] < _TLS_RANK[before.tls]
            or (before.chain and not self.chain)
            or (before.hostname and not self.hostname)
            or (before.breaks is None and self.breaks is not None)
        )
        new_side = sorted(self.side - before.side)
        if lost or new_side:
            extra = f" (newly {', '.join(new_side)})" if new_side and not lost else ""
            return f"would go from {before.describe()} to {self.describe()}{extra}"
        return None


Census = dict[SiteKey, SiteState]


# (relpath, bytes digest, policy, environment) -> (the digests of the project modules the
# analysis read, by relpath; the file's sites). A fix run judges the same tree many times
# with a few files changed: only files whose own bytes, or a module they import, changed
# are analysed again (a tree of 270 modules: 1.4 s the first time, milliseconds after).
_CACHE: OrderedDict[tuple[object, ...], tuple[tuple[tuple[str, str], ...], Census]] = OrderedDict()
_CACHE_SIZE = 8192


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_modules(module: ParsedModule, root: Path) -> tuple[tuple[str, str], ...]:
    """Every project module the analysis of `module` read (through imports, transitively),
    by relpath, with the digest of its bytes now."""
    seen: dict[str, str] = {}
    stack = [module]
    while stack:
        current = stack.pop()
        for found in current._imports.values():  # read-only: the resolver's own record
            if found is None:
                continue
            other = found[0]
            try:
                relpath = other.path.relative_to(root).as_posix()
                data = other.path.read_bytes()
            except (ValueError, OSError):
                continue
            if relpath not in seen:
                seen[relpath] = _digest(data)
                stack.append(other)
    return tuple(sorted(seen.items()))


def _cached(key: tuple[object, ...], root: Path) -> Census | None:
    hit = _CACHE.get(key)
    if hit is None:
        return None
    modules, sites = hit
    for relpath, digest in modules:
        try:
            if _digest((root / relpath).read_bytes()) != digest:
                return None
        except OSError:
            return None
    _CACHE.move_to_end(key)
    return sites


def _python_sites(
    root: Path,
    relpath: str,
    policy: Policy,
    env: Environment | None,
    values: Mapping[str, str],
) -> Census:
    path = root / relpath
    try:
        data = path.read_bytes()
    except OSError:
        return {SiteKey(relpath, "?", 0): SiteState(0, judged=False)}
    key = (
        relpath,
        _digest(data),
        policy,
        env.describe() if env else "",
        tuple(sorted(values.items())),
    )
    hit = _cached(key, root)
    if hit is not None:
        return hit
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        text = envreads.materialise(data.decode(encoding), values)
        data = text.encode("utf-8")
        planned = plan(text, path.stem, data)
        if "sites" not in planned.families:
            return {}
        source = SourceFile(path, relpath, text, data)
        analysis = run_analysis(
            source, ScanContext(root, policy), planned.families, planned=planned
        )
    except (UnicodeDecodeError, SyntaxError, LookupError, CheckSkipped, RecursionError):
        # Unreadable: a site that was judged before is then "no longer judged".
        return {SiteKey(relpath, "?", 0): SiteState(0, judged=False)}
    sites = _judged_sites(analysis, relpath, policy, env)
    _CACHE[key] = (_read_modules(analysis.module, root), sites)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return sites


def _judged_sites(
    analysis: Analysis, relpath: str, policy: Policy, env: Environment | None
) -> Census:
    judged: dict[tuple[int, int], list[Verdict]] = defaultdict(list)
    for site in analysis.sites:
        verdict = site.verdict
        if env is not None:
            try:
                verdict = evaluate(site.info, site.driver, env, policy)
            except VerifyfullError:
                continue
        judged[(site.line, site.column)].append(verdict)
    calls = sorted(
        (node for node in ast.walk(analysis.module.tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    census: Census = {}
    ranks: dict[str, int] = defaultdict(int)
    for node in calls:
        api = site_api(analysis, node)
        if api is None:
            continue
        rank = ranks[api]
        ranks[api] += 1
        verdicts = judged.get((node.lineno, node.col_offset + 1), [])
        if not verdicts:
            census[SiteKey(relpath, api, rank)] = SiteState(node.lineno, judged=False)
        for part, verdict in enumerate(verdicts):
            census[SiteKey(relpath, api, rank, part)] = SiteState.of(node.lineno, verdict)
    return census


def _config_sites(findings: Iterable[Finding], relpaths: set[str]) -> Census:
    by_line: dict[tuple[str, int], set[str]] = defaultdict(set)
    for item in findings:
        if item.path in relpaths and item.line and item.rule_id in _CONFIG_RULES:
            by_line[(item.path, item.line)].add(item.rule_id)
    return {
        SiteKey(relpath, "config", line): SiteState.of_findings(line, rules)
        for (relpath, line), rules in by_line.items()
    }


def take(
    root: Path,
    python: Iterable[str],
    config: Iterable[str] = (),
    *,
    policy: Policy = DEFAULT_POLICY,
    env: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Census:
    """The sites of the Python files and the config files (paths relative to `root`).

    env: judge the Python sites in this environment (PG* variables a config file sets)
    instead of an empty one. values: what environment reads without a default stand
    for (envreads.py; the variables a config file of the tree sets).
    """
    environment = Environment.of(env) if env else None
    # The scanner keeps parsed modules (imports by path and mtime, analysed files by
    # their text), each with the modules it imported resolved: after an edit of B, an
    # unchanged A would still lead to the old B. Judging edits needs every import read
    # as it is now, so both caches go.
    pymodule.release_parsed()
    census: Census = {}
    for relpath in python:
        census.update(_python_sites(root, relpath, policy, environment, values or {}))
    config_paths = sorted(set(config))
    if config_paths:
        settings = load(root)
        report = engine.scan([root / p for p in config_paths], settings, jobs=1).report
        census.update(_config_sites(report.findings, set(config_paths)))
    return census


def config_lines(before: Census, after: Census) -> None:
    """A config line reported before the fix and silent after it is verified now: give
    it its state explicitly so the comparison sees it (a line silent in both is no site)."""
    for key in before:
        if key.api == "config" and key not in after:
            after[key] = SiteState.of_findings(key.rank, ())


def regressions(before: Census, after: Census) -> list[tuple[SiteKey, str]]:
    """Every site worse after than before, with why; a site of `before` missing in
    `after` (the fix removed or reordered a call) counts as not judged."""
    config_lines(before, after)
    worse: list[tuple[SiteKey, str]] = []
    for key in sorted(set(before) | set(after)):
        old = before.get(key, SiteState(0, judged=False))
        new = after.get(key, SiteState(old.line, judged=False))
        if not old.judged and not new.judged:
            continue  # nothing could be said before or after: the scanner reports neither
        why = new.worse_than(old)
        if why is not None:
            worse.append((key, why))
    return worse
