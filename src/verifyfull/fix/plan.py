"""Plan the fixes: scan, hand each reported file to its fixer, check the result.

The scanner says where (path, line, rule); a fixer rewrites only those lines.
Every plan is checked before anything is written: the fixed files must still
parse, no connection site of the tree may get worse (safety.py: edits that weaken
one are refused and listed for a person), and the scanner is run again on a copy
of the project with the fixes kept. Whatever it still reports is left for a
person, with its manual fix. Files reached through a link out of the tree or
with several hard links are refused before they are read.
"""

from __future__ import annotations

import configparser
import dataclasses
import functools
import json
import tokenize
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import libcst as cst
import tomlkit
import yaml
from tomlkit.exceptions import TOMLKitError

from verifyfull.findings import Finding
from verifyfull.fix import applicability, safety, settings_source
from verifyfull.fix.apply import FileChanged, read_stamped
from verifyfull.fix.config_fixes import (
    SHELL_SUFFIXES,
    TERRAFORM_SUFFIXES,
    fix_config,
    is_env_file,
)
from verifyfull.fix.layout import DEFAULT_LINE_LENGTH, line_length
from verifyfull.fix.model import Change, Declined, Refusal
from verifyfull.fix.model import FileFix as FileFix  # re-exported: callers import it from here
from verifyfull.fix.origins import origins
from verifyfull.fix.python_fixes import fix_python
from verifyfull.fix.workspace import project_copy
from verifyfull.report import ReportError
from verifyfull.scan import engine
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.settings import ScanSettings, load

# Rules a fixer may rewrite (VF201: `cockroach start --insecure`, an unsafe fix); the others
# (other server flags, passwords, certificates) are for a person.
FIXABLE = frozenset({"VF101", "VF102", "VF103", "VF104", "VF105", "VF106", "VF107", "VF201"})
# Rules that mean "a password is on this line": such lines never reach the output.
SECRET_RULES = frozenset({"VF401", "VF402"})
_CONFIG_SUFFIXES = {
    ".env",
    ".ini",
    ".cfg",
    ".yaml",
    ".yml",
    ".toml",
    ".json",
    *SHELL_SUFFIXES,
    *TERRAFORM_SUFFIXES,
}
_CONFIG_NAMES = {"dockerfile", "pg_service.conf", ".pg_service.conf"}


@dataclass(frozen=True)
class FixPlan:
    fixes: tuple[FileFix, ...]
    left: tuple[Finding, ...]  # what the scanner still reports once the fixes are in
    errors: tuple[ReportError, ...]
    found: int  # findings before fixing
    refused: tuple[Refusal, ...] = ()  # edits planned but not made (they are in `left`)
    examined: int = -1  # files the scanner examined (-1: not known)
    # unsafe fixes not applied (no --unsafe-fixes): (relpath, change); their findings are left
    unsafe_left: tuple[tuple[str, Change], ...] = ()

    @property
    def fixed(self) -> int:
        return self.found - len(self.left)

    def left_before_fixing(self) -> tuple[Finding, ...]:
        """`left` with the lines of the files as they are now (before any fix is written)."""
        by_path = {fix.relpath: fix for fix in self.fixes}
        out = []
        for item in self.left:
            fix = by_path.get(item.path or "")
            if fix is not None and item.line:
                item = dataclasses.replace(item, line=fix.line_before(item.line))
            out.append(item)
        return tuple(out)


def _kind(path: Path) -> str | None:
    if path.suffix == ".py":
        return "python"
    name = path.name.lower()
    if path.suffix.lower() in _CONFIG_SUFFIXES or is_env_file(name) or name in _CONFIG_NAMES:
        return "config"
    return None


def _decode(data: bytes, kind: str) -> tuple[str, str]:
    encoding = "utf-8"
    if kind == "python":
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    return data.decode(encoding), encoding


def check_parses(path: Path, text: str) -> str | None:
    """Why the fixed text does not load as its kind of file (None when it does)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".py":
            parse_python(text, str(path))  # a 3.12 f-string loads on the interpreter it targets
        elif suffix in {".yaml", ".yml"}:
            list(yaml.safe_load_all(text))
        elif suffix == ".json":
            json.loads(text)
        elif suffix == ".toml":
            tomlkit.parse(text)
        elif suffix in {".ini", ".cfg"}:
            configparser.ConfigParser(interpolation=None).read_string(text)
    except (
        SyntaxError,
        ValueError,
        yaml.YAMLError,
        TOMLKitError,
        configparser.Error,
    ) as exc:
        return f"the fixed file would not load ({type(exc).__name__})"
    return None


def link_problem(path: Path, root: Path) -> str | None:
    """Why writing `path` would change something other than the one file of the scanned
    tree it names (None when it would not)."""
    try:
        real = path.resolve(strict=True)
        info = real.stat()
    except (OSError, RuntimeError):
        return "cannot tell which file it is (a broken or looping link)"
    try:
        real.relative_to(root.resolve())
    except ValueError:
        return (
            "it is a symbolic link to a file outside the scanned tree; "
            "fix that file where it lives, or replace the link with a copy"
        )
    if info.st_nlink > 1:
        return (
            f"it has {info.st_nlink} hard links: replacing it would leave the other names "
            "with the old text; fix it by hand, or break the link (cp) and run fix again"
        )
    return None


def fix_file(
    path: Path, relpath: str, findings: Sequence[Finding], secrets: Sequence[int]
) -> FileFix | None:
    """The fixer's edit of one file for these findings (None: nothing, or not fixable),
    without the safety net or the re-scan (for reports: fix/offers.py)."""
    outcome = _fix_file(path, relpath, findings, secrets)
    return outcome if isinstance(outcome, FileFix) else None


@functools.lru_cache(maxsize=16)
def _line_length(root: Path) -> int:
    return line_length(root)


def _fix_file(
    path: Path,
    relpath: str,
    findings: Sequence[Finding],
    secrets: Sequence[int],
    use_guard: bool = False,
) -> FileFix | ReportError | Declined | None:
    kind = _kind(path)
    if kind is None:
        return None
    try:
        data, stamp = read_stamped(path)
        text, encoding = _decode(data, kind)
    except FileChanged as exc:
        return ReportError(f"not fixed: {exc.problem}", path=relpath)
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
        return ReportError("not fixed: cannot read or decode it", path=relpath)
    # A finding's related places in the same file are fixed with it (the other lines
    # weakening one SSLContext, the calls that use it: findings.Related).
    lines = sorted(
        {f.line for f in findings if f.line}
        | {r.line for f in findings for r in f.related if r.line and r.path in (None, f.path)}
    )
    source: settings_source.SettingsSource | None = None
    declined: tuple[Refusal, ...] = ()
    try:
        if kind == "python":
            # a related call of the same file is fixed with the value the finding
            # resolved (a getenv default placed at its line names the dialect)
            evidence = {
                r.line: f.evidence
                for f in findings
                for r in f.related
                if r.line and r.path in (None, f.path) and f.evidence
            }
            evidence.update({f.line: f.evidence for f in findings if f.line and f.evidence})
            parts = Path(relpath).parts
            root = (
                path.parents[len(parts) - 1] if parts and not Path(relpath).is_absolute() else None
            )
            width = _line_length(root) if root is not None else DEFAULT_LINE_LENGTH
            # the guard reads its own settings; otherwise a pydantic Settings object the
            # reported calls read through gets the certificate files too
            source = (
                settings_source.find(root, relpath, text, lines)
                if root is not None and not use_guard
                else None
            )
            result = fix_python(
                text,
                lines,
                use_guard=use_guard,
                evidence=evidence,
                line_length=width,
                settings=source,
                path=path,
                root=root,
            )
            new_text, actions = result.text, result.actions
            declined = tuple(
                Refusal(
                    relpath,
                    why,
                    line,
                    tuple(sorted({f.rule_id for f in findings if f.line == line})),
                )
                for line, why in result.declined
            )
        else:
            config = fix_config(text, relpath, lines)
            new_text, actions = config.text, config.actions
    except cst.ParserSyntaxError:
        return ReportError("not fixed: libcst cannot parse it; fix the syntax first", path=relpath)
    except RecursionError:
        return ReportError(
            "not fixed: expressions nested too deeply to rewrite; simplify them", path=relpath
        )
    except Exception as exc:  # a bug in a fixer must not end the run (the message holds no text)
        return ReportError(
            f"not fixed: internal error {type(exc).__name__}; please report it", path=relpath
        )
    if new_text == text:
        return Declined(declined) if declined else None
    problem = check_parses(path, new_text)
    if problem:
        return ReportError(f"not fixed: {problem}; please report it", path=relpath)
    rules = tuple(sorted({f.rule_id for f in findings}))
    old_lines = text.splitlines()
    hidden = tuple(old_lines[n - 1] for n in secrets if 0 < n <= len(old_lines))
    changes = tuple(
        Change(
            action.first_line,
            tuple(
                sorted(
                    {
                        f.rule_id
                        for f in findings
                        if f.line and action.first_line <= f.line <= action.last_line
                    }
                )
            ),
            action.text,
            last_line=action.last_line,
        )
        for action in actions
    )
    if source is not None and not any(code in new_text for code in source.reads()):
        source = None  # no fix of this file reads it
    return FileFix(
        path,
        relpath,
        data,
        new_text.encode(encoding),
        changes,
        rules,
        hidden,
        stamp,
        source,
        declined,
    )


def _follow_origins(root: Path, by_file: dict[str, list[Finding]]) -> None:
    """Findings at a call whose value is written elsewhere (origins.py) are handed to
    the file and line where it is written, too (the call's line stays reported)."""
    for relpath, findings in list(by_file.items()):
        if not relpath.endswith(".py") or Path(relpath).is_absolute():
            continue
        lines = sorted({f.line for f in findings if f.line})
        for line, origin in origins(root, relpath, lines):
            moved = [
                dataclasses.replace(f, path=origin.relpath, line=origin.line)
                for f in findings
                if f.line == line
            ]
            by_file[origin.relpath] = [*by_file.get(origin.relpath, []), *moved]


def _follow_related(by_file: dict[str, list[Finding]]) -> None:
    """The reverse: a finding reported where its value is written (scan/python/
    placement.py: a Settings default, a dict) with the calls that use it in other files
    related is handed to each of those files at the call's line, where a fix can pass
    the TLS argument the call then decides with."""
    for findings in list(by_file.values()):
        for item in list(findings):
            for place in item.related:
                if place.path and place.path != item.path and place.line:
                    moved = dataclasses.replace(item, path=place.path, line=place.line, related=())
                    by_file[place.path] = [*by_file.get(place.path, []), moved]


@dataclass(frozen=True)
class _Classified:
    fix: FileFix | ReportError | Declined | None  # every reported line fixed
    needs: dict[int, tuple[str, ...]]  # reported line -> what its fix needs (empty: safe)


def _classified(
    path: Path,
    relpath: str,
    findings: Sequence[Finding],
    secrets: Sequence[int],
    use_guard: bool,
) -> _Classified:
    """The file's fix and, per reported line, what the fix of that line alone needs at run
    time (applicability.py): the fixer run on one line at a time, so an edit and the
    imports or context it brings are judged together."""
    whole = _fix_file(path, relpath, findings, secrets, use_guard)
    if not isinstance(whole, FileFix):
        return _Classified(whole, {})
    lines = sorted({f.line for f in findings if f.line})
    out: dict[int, tuple[str, ...]] = {}
    for line in lines:
        alone = (
            whole
            if len(lines) == 1
            else _fix_file(
                path, relpath, [f for f in findings if f.line == line], secrets, use_guard
            )
        )
        if isinstance(alone, FileFix):
            source = alone.settings
            out[line] = applicability.needs(
                _text(alone.before),
                _text(alone.after),
                source.reads() if source is not None else None,
                f"{source.class_name} ({source.relpath})" if source is not None else None,
            )
    return _Classified(whole, out)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _marked(fix: FileFix, needs: Mapping[int, tuple[str, ...]]) -> FileFix:
    """`fix` with each change marked with what the fixes of its reported lines need."""
    changes = []
    for change in fix.changes:
        last = max(change.last_line, change.line)
        needed = sorted(
            {n for line, need in needs.items() if change.line <= line <= last for n in need}
        )
        changes.append(dataclasses.replace(change, needs=tuple(needed)))
    return dataclasses.replace(fix, changes=tuple(changes))


def _rescan(
    settings: ScanSettings,
    paths: Sequence[Path],
    fixes: Sequence[FileFix],
    select: frozenset[str],
    ignore: frozenset[str],
) -> tuple[Finding, ...] | None:
    """The findings of a scan of a copy of the project with the fixes written in."""
    root = settings.project_root.resolve()
    try:
        relative = [p.resolve().relative_to(root) for p in paths]
    except ValueError:
        return None
    try:
        with project_copy(settings, {fix.relpath: fix.after for fix in fixes}) as (copy, _):
            result = engine.scan(
                [copy / r for r in relative], load(copy), select=select, ignore=ignore, jobs=1
            )
            return result.report.findings
    except (OSError, ValueError):
        return None


def plan_fixes(
    paths: Sequence[Path],
    settings: ScanSettings,
    *,
    select: frozenset[str] = frozenset(),
    ignore: frozenset[str] = frozenset(),
    use_guard: bool = False,
    unsafe: bool = True,
) -> FixPlan:
    """Scan `paths`, plan every fix, and check what the scanner reports afterwards.

    use_guard: SSLContext sites call `verifyfull.guard.Guard.from_env().ssl_context()`
    instead of building the context by hand (the caller checks the dependency).
    unsafe: also the fixes that need something new at run time (applicability.py; the
    command passes False unless --unsafe-fixes); without it they are marked and listed in
    `unsafe_left`, not planned.
    """
    before = engine.scan(paths, settings, select=select, ignore=ignore).report
    by_file: dict[str, list[Finding]] = defaultdict(list)
    secrets: dict[str, list[int]] = defaultdict(list)
    for item in before.findings:
        if item.rule_id in FIXABLE and item.path:
            by_file[item.path].append(item)
        if item.rule_id in SECRET_RULES and item.path and item.line:
            secrets[item.path].append(item.line)
    _follow_origins(settings.project_root, by_file)
    _follow_related(by_file)
    fixes: list[FileFix] = []
    errors: list[ReportError] = list(before.errors)
    refused: list[Refusal] = []
    needs: dict[str, dict[int, tuple[str, ...]]] = {}  # relpath -> reported line -> needs
    unsafe_left: list[tuple[str, Change]] = []
    written: dict[Path, str] = {}  # real path -> the name it is fixed under
    for relpath, findings in sorted(
        by_file.items(), key=lambda item: _link_last(item[0], settings)
    ):
        path = Path(relpath)
        if not path.is_absolute():
            path = settings.project_root / relpath
        rules = tuple(sorted({f.rule_id for f in findings}))
        problem = link_problem(path, settings.project_root)
        real = path.resolve()
        if problem is None and real in written:
            problem = f"it is a link to {written[real]}, which is fixed under that name"
        if problem is not None:
            refused.append(Refusal(relpath, problem, rules=rules))
            continue
        classified = _classified(path, relpath, findings, secrets.get(relpath, ()), use_guard)
        outcome = classified.fix
        needs[relpath] = classified.needs
        if isinstance(outcome, FileFix | Declined):
            refused += outcome.declined if isinstance(outcome, FileFix) else outcome.refused
        if not unsafe and isinstance(outcome, FileFix):
            # only the safe lines are fixed; the unsafe changes are listed, not made
            marked = _marked(outcome, classified.needs).changes
            unsafe_left += [(relpath, change) for change in marked if not change.safe]
            safe_lines = {line for line, need in classified.needs.items() if not need}
            by_file[relpath] = [f for f in findings if f.line in safe_lines]
            outcome = (
                _fix_file(path, relpath, by_file[relpath], secrets.get(relpath, ()), use_guard)
                if len(safe_lines) < len(classified.needs)
                else outcome
            )
        if isinstance(outcome, FileFix):
            fixes.append(outcome)
            written[real] = relpath
        elif isinstance(outcome, ReportError):
            errors.append(outcome)
    fixes, kept_out = _screened(settings, fixes, by_file, secrets, use_guard)
    fixes = [_marked(fix, needs.get(fix.relpath, {})) for fix in fixes]
    fixes, field_errors = _with_settings_fields(settings.project_root, fixes)
    errors += field_errors
    refused += kept_out
    left: tuple[Finding, ...] = before.findings
    if fixes:
        rescanned = _rescan(settings, paths, fixes, select, ignore)
        if rescanned is not None:
            left = rescanned
        else:
            errors.append(
                ReportError(
                    "fixes not re-checked by a second scan (the project could not be copied); "
                    "run verifyfull scan after fixing",
                    path=str(settings.project_root),
                )
            )
    return FixPlan(
        tuple(fixes),
        left,
        tuple(errors),
        len(before.findings),
        tuple(refused),
        before.files,
        tuple(unsafe_left),
    )


def _with_settings_fields(
    root: Path, fixes: list[FileFix]
) -> tuple[list[FileFix], list[ReportError]]:
    """The fixes, with each Settings class that fixed code reads new fields of given them
    (in the module that defines it, fixed or not: settings_source.py)."""
    wanted: dict[str, list[settings_source.SettingsSource]] = defaultdict(list)
    rules: dict[str, set[str]] = defaultdict(set)  # the findings whose fixes read them
    for fix in fixes:
        source = fix.settings
        if source is not None and source.missing:
            rules[source.relpath] |= set(fix.rules)
            if source not in wanted[source.relpath]:
                wanted[source.relpath].append(source)
    out, errors = list(fixes), []
    for relpath, sources in wanted.items():
        at = next((i for i, fix in enumerate(out) if fix.relpath == relpath), None)
        path = root / relpath
        try:
            if at is not None:
                base = out[at]
                data, stamp, changes = base.before, base.stamp, base.changes
                text, encoding = _decode(base.after, "python")
            else:
                data, stamp = read_stamped(path)
                text, encoding = _decode(data, "python")
                changes = ()
            new = text
            for source in sources:
                new = settings_source.with_fields(new, source)
        except (FileChanged, OSError, UnicodeDecodeError, SyntaxError, LookupError):
            new = text = ""
        problem = check_parses(path, new) if new else "cannot read or decode it"
        if problem or new == text:
            errors.append(
                ReportError(
                    f"not given the Settings fields the fixed code reads: {problem}; "
                    "add them by hand",
                    path=relpath,
                )
            )
            continue
        added = [
            Change(
                settings_source.class_line(_text(data), source.class_name),
                (),
                f"{source.class_name} gains "
                + ", ".join(source.field(role) for role in source.missing)
                + " (pydantic reads "
                + ", ".join(source.variable(role) for role in source.missing)
                + ")",
                needs=tuple(f"{source.variable(role)} set" for role in source.missing[:1])
                + tuple(f"{source.variable(role)} (read when set)" for role in source.missing[1:]),
            )
            for source in sources
        ]
        fixed = FileFix(
            path,
            relpath,
            data,
            new.encode(encoding),
            (*changes, *added),
            tuple(sorted(rules[relpath] | set(out[at].rules if at is not None else ()))),
            out[at].secret_lines if at is not None else (),
            stamp,
            out[at].settings if at is not None else None,
        )
        if at is None:
            out.append(fixed)
        else:
            out[at] = fixed
    return out, errors


def _screened(
    settings: ScanSettings,
    fixes: list[FileFix],
    by_file: Mapping[str, Sequence[Finding]],
    secrets: Mapping[str, Sequence[int]],
    use_guard: bool,
) -> tuple[list[FileFix], list[Refusal]]:
    """The fixes that weaken no connection site (safety.py); the tree that cannot be
    copied to check them gets none."""

    def refix(relpath: str, findings: Sequence[Finding]) -> FileFix | None:
        path = Path(relpath) if Path(relpath).is_absolute() else settings.project_root / relpath
        outcome = _fix_file(path, relpath, findings, secrets.get(relpath, ()), use_guard)
        return outcome if isinstance(outcome, FileFix) else None

    try:
        screened = safety.screen(settings, settings.policy, fixes, by_file, refix)
    except (OSError, ValueError):
        reason = "the project could not be copied to check that the fix weakens nothing"
        return [], [Refusal(fix.relpath, reason, rules=fix.rules) for fix in fixes]
    return list(screened.kept), list(screened.refused)


def _link_last(relpath: str, settings: ScanSettings) -> tuple[bool, str]:
    """Files under their own names first, symbolic links after: a file reached both ways
    is fixed under its own name."""
    path = Path(relpath) if Path(relpath).is_absolute() else settings.project_root / relpath
    return (path.is_symlink(), relpath)
