"""The scan engine: walk, read, prefilter, dispatch to checks, then suppress, select,
re-grade and baseline. Checks never walk or print; the engine never judges.

Large trees are streamed to worker processes (dispatch.py, one per core by default); each
file is read once, capped in size, decoded once, and handed to every check
that wants it. Nothing a file contains can crash the scan: every failure
becomes an error entry naming the file.
"""

from __future__ import annotations

import codecs
import dataclasses
import fnmatch
import gc
import importlib
import os
import re
import tokenize
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from io import BytesIO
from pathlib import Path

import ahocorasick_rs

from verifyfull.findings import Finding
from verifyfull.report import Report, ReportError
from verifyfull.scan import baseline as baseline_file
from verifyfull.scan import dispatch, relocated, suppress
from verifyfull.scan.api import (
    BACKUP_SUFFIXES,
    EXAMPLE_SUFFIXES,
    CheckIncomplete,
    CheckSkipped,
    RegisteredCheck,
    ScanContext,
    SourceFile,
    backup_name,
    example_name,
    registered_checks,
)
from verifyfull.scan.settings import ScanSettings
from verifyfull.scan.walk import WalkedFile, Walker
from verifyfull.scrub import register_public_name

_CHUNK = 64
_BINARY_SNIFF = 8192


@lru_cache(maxsize=1)
def load_checks() -> tuple[RegisteredCheck, ...]:
    """Import every check module once (registration happens at import)."""
    for module in ("verifyfull.scan.python", "verifyfull.scan.config", "verifyfull.scan.certfiles"):
        importlib.import_module(module)
    return registered_checks()


def _suffix(name: str) -> str:
    """PurePath(name).suffix, lower-cased, without building a path."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


@lru_cache(maxsize=4096)
def checks_for(name: str) -> tuple[RegisteredCheck, ...]:
    """The checks that want a file of this base name (they match on the name only),
    else those of the file an example stands for (api.example_name), else those of the
    file a backup was copied from (api.backup_name; only its credential findings count,
    scan_file)."""
    own = _checks_named(name)
    if own:
        return own
    inner = example_name(name) or backup_name(name)
    return _checks_named(inner) if inner else own


# VF4xx (credentials) and VF306 (a private key committed): what a backup copy leaks.
_SECRET_RULE_PREFIXES = ("VF4", "VF306")


def _checks_named(name: str) -> tuple[RegisteredCheck, ...]:
    suffix = _suffix(name)
    return tuple(
        check
        for check, glob in _matchers()
        if name in check.names
        or suffix in check.suffixes
        or (glob is not None and glob.match(name))
    )


def _is_candidate(name: str) -> bool:
    """Whether any check wants this base name (checks_for is not empty, or a suffixless
    name a shebang check may want), asked of every file the walk lists (13,000 on a
    large tree, most of them different names): one test against the union of every
    check's names, suffixes and globs."""
    names, suffixes, globs = _any_check()
    suffix = _suffix(name)
    return (
        name in names
        or suffix in suffixes
        or globs.match(name) is not None
        or (not suffix and bool(_shebang_checks()))
        or (suffix in EXAMPLE_SUFFIXES and bool(checks_for(name)))
        or (suffix in BACKUP_SUFFIXES and bool(checks_for(name)))
    )


@lru_cache(maxsize=1)
def _shebang_checks() -> tuple[RegisteredCheck, ...]:
    return tuple(check for check in load_checks() if check.shebang)


def _starts_with_shebang(path: Path) -> bool:
    """Whether the file's first bytes are `#!` (two bytes read, nothing else)."""
    try:
        return _read_bytes(path, 2) == b"#!"
    except OSError:
        return False


@lru_cache(maxsize=1)
def _any_check() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    checks = load_checks()
    globs = [fnmatch.translate(glob) for check in checks for glob in check.globs]
    return (
        frozenset(name for check in checks for name in check.names),
        frozenset(suffix for check in checks for suffix in check.suffixes),
        re.compile("|".join(globs) if globs else "(?!)"),
    )


@lru_cache(maxsize=1)
def _matchers() -> tuple[tuple[RegisteredCheck, re.Pattern[str] | None], ...]:
    """Each check with its globs compiled into one pattern (fnmatch's semantics)."""
    return tuple(
        (
            check,
            re.compile("|".join(fnmatch.translate(g) for g in check.globs))
            if check.globs
            else None,
        )
        for check in load_checks()
    )


@dataclass(frozen=True)
class FileOutcome:
    findings: tuple[Finding, ...] = ()
    line_texts: tuple[str, ...] = ()  # the source line of each finding (for baselines)
    errors: tuple[ReportError, ...] = ()
    examined: bool = False
    suppressed: int = 0


# The outcome of most files of a large tree, one object: a worker's results for a
# chunk then pickle it once (the pickle memo), not once per file.
_NOTHING_TO_CHECK = FileOutcome()
_NOTHING_FOUND = FileOutcome(examined=True)


@dataclass(frozen=True)
class ScanResult:
    report: Report
    baselined: int = 0  # findings hidden because the baseline holds them
    suppressed: int = 0  # findings silenced by inline suppressions
    baseline_written: int | None = None


_UTF8 = frozenset({"utf-8", "utf-8-sig"})


def _decode(data: bytes, path: Path) -> tuple[str, bool]:
    """The text, and whether it was decoded as UTF-8 (then an ASCII word is in the text
    exactly where its bytes are in the data: UTF-8 puts no ASCII byte in a multi-byte
    character, which a declared Shift-JIS or UTF-7 may)."""
    if path.suffix == ".py":
        second_line_end = data.find(b"\n", data.find(b"\n") + 1)
        head = data if second_line_end < 0 else data[:second_line_end]
        if b"coding" not in head and not data.startswith(codecs.BOM_UTF8):
            return data.decode("utf-8"), True  # PEP 263's default, without tokenize's reader
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding), codecs.lookup(encoding).name in _UTF8
    return data.decode("utf-8-sig"), True


@lru_cache(maxsize=64)
def _word_finder(
    wanted: tuple[RegisteredCheck, ...],
) -> tuple[ahocorasick_rs.BytesAhoCorasick, tuple[str, ...]] | None:
    """One automaton for every keyword and needle of these checks, and the suppression
    marker: a file's words in one native pass over its bytes, not one text search per
    word per check (a Python file has three checks with keywords or needles). None
    when no check has any, or a word is not ASCII (then the text is searched)."""
    words = {word for check in wanted for word in (*check.keywords, *check.needles)}
    if not words or not all(word.isascii() and word for word in words):
        return None
    ordered = tuple(sorted({*words, suppress.MARKER}))
    # A DFA, asked for: past a hundred words the library's default is an NFA, 2.7x
    # slower on a large tree; the DFA of this many short words stays small.
    automaton = ahocorasick_rs.BytesAhoCorasick(
        [word.encode("ascii") for word in ordered],
        implementation=ahocorasick_rs.Implementation.DFA,
    )
    return automaton, ordered


def _words_in(data: bytes, wanted: tuple[RegisteredCheck, ...]) -> frozenset[str] | None:
    finder = _word_finder(wanted)
    if finder is None:
        return None
    automaton, words = finder
    found = {index for index, _, _ in automaton.find_matches_as_indexes(data, overlapping=True)}
    return frozenset(words[index] for index in found)


def _too_large(size: int, max_size: int, where: str) -> ReportError:
    return ReportError(
        f"not checked: {size} bytes is over the {max_size}-byte limit; "
        "raise max-file-size in [tool.verifyfull] or exclude the file",
        path=where,
    )


def _read_bytes(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of the file (one over the size limit is read: the size the
    walk saw may be stale). os.open/os.read: a buffered file object per file was a
    fifth of the reading time on a large tree. O_NONBLOCK: a file swapped for a FIFO
    since the walk cannot block the open."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    try:
        chunks: list[bytes] = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(descriptor, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(descriptor)
    return b"".join(chunks)


def _read(
    walked: WalkedFile, wanted: tuple[RegisteredCheck, ...], max_size: int
) -> tuple[SourceFile | None, ReportError | None]:
    where = walked.relpath
    if walked.size > max_size:
        return None, _too_large(walked.size, max_size, where)
    try:
        data = _read_bytes(walked.path, max_size + 1)
    except OSError as exc:
        return None, ReportError(
            f"not checked: cannot read ({exc.strerror or type(exc).__name__}); "
            "fix its permissions or exclude it",
            path=where,
        )
    if len(data) > max_size:
        return None, _too_large(len(data), max_size, where)
    text = ""
    words = None
    needs_text = any(not check.binary for check in wanted)
    if b"\0" in data[:_BINARY_SNIFF]:
        if needs_text:
            return None, ReportError(
                "not checked: binary content in a file named like text; exclude it if expected",
                path=where,
            )
    else:
        try:
            text, utf8 = _decode(data, walked.path)
            words = _words_in(data, wanted) if utf8 else None
        except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
            if needs_text:
                detail = (
                    f"byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else "its coding"
                )
                return None, ReportError(
                    f"not checked: not valid UTF-8 or declared encoding ({detail}); "
                    "save it as UTF-8",
                    path=where,
                )
    return SourceFile(walked.path, walked.relpath, text, data, words), None


def _wants(check: RegisteredCheck, source: SourceFile) -> bool:
    return not check.keywords or source.holds_any(check.keywords)


def _suppressions(source: SourceFile) -> suppress.Suppressions:
    if source.words is not None and suppress.MARKER not in source.words:
        return suppress.NONE  # what suppress.parse says of a text without the marker
    return suppress.parse(source.text)


def _line_texts(source: SourceFile, findings: list[Finding], ctx: ScanContext) -> dict[int, str]:
    """Each finding's line text. A check may report where a deciding value is written
    in another file of the project (a config dict imported by a connection site):
    that file's own suppressions apply to it, and it is dropped if unreadable."""
    texts: dict[int, str] = {}
    others: dict[str, SourceFile | None] = {}
    for item in findings:
        if item.path == source.relpath or item.path is None:
            texts[id(item)] = source.line_text(item.line) if item.line else ""
            continue
        if item.path not in others:
            try:
                data = (ctx.root / item.path).read_bytes()
                other = SourceFile(ctx.root / item.path, item.path, data.decode("utf-8"), data)
            except (OSError, UnicodeDecodeError):
                other = None
            others[item.path] = other
        other = others[item.path]
        if other is None or suppress.parse(other.text).silences(item.rule_id, item.line):
            continue
        texts[id(item)] = other.line_text(item.line) if item.line else ""
    return texts


def _merge_same_place(findings: list[Finding], line_text: dict[int, str]) -> list[Finding]:
    """One finding per rule and place: two files reporting the same written value (two
    connection sites importing one config dict) give one finding, related places joined."""
    merged: dict[tuple[str, str | None, int | None, int | None], int] = {}
    result: list[Finding] = []
    for item in findings:
        key = (item.rule_id, item.path, item.line, item.column)
        first = result[merged[key]] if key in merged else None
        # Two bare findings at one place stay two (the check meant both); a finding that
        # lists related places joins the one at its place (a context's factory reported
        # by its module, its calls by theirs), whichever came first.
        if first is None or not (item.related or first.related):
            merged.setdefault(key, len(result))
            result.append(item)
            continue
        known = {(r.path, r.line) for r in first.related}
        extra = tuple(r for r in item.related if (r.path, r.line) not in known)
        # the place's own finding (no related: the check that reads that file) speaks
        # for it; the calls' findings add where it acts
        base = item if first.related and not item.related else first
        joined = dataclasses.replace(base, related=first.related + extra)
        line_text[id(joined)] = line_text.get(id(first), "")
        result[merged[key]] = joined
    return result


def scan_file(walked: WalkedFile, ctx: ScanContext, max_size: int) -> FileOutcome:
    """Run every matching check on one file; never raises for anything the file holds."""
    wanted = checks_for(walked.path.name)
    if not wanted:
        # A suffixless file no name claims: a script only if it starts with `#!`.
        if _suffix(walked.path.name) or not _starts_with_shebang(walked.path):
            return _NOTHING_TO_CHECK
        wanted = _shebang_checks()
        if not wanted:
            return _NOTHING_TO_CHECK
    source, error = _read(walked, wanted, max_size)
    if source is None:
        return FileOutcome(errors=(error,) if error else ())
    findings: list[Finding] = []
    errors: list[ReportError] = []
    for check in wanted:
        if not check.binary and not _wants(check, source):
            continue
        try:
            findings.extend(check.func(source, ctx))
        except CheckSkipped as exc:
            errors.append(ReportError(f"not checked: {exc}", path=walked.relpath))
        except CheckIncomplete as exc:
            findings.extend(exc.findings)
            errors.append(ReportError(f"not fully checked: {exc}", path=walked.relpath))
        except RecursionError:
            errors.append(
                ReportError(
                    "not checked: expressions nested too deeply to analyse; simplify them",
                    path=walked.relpath,
                )
            )
        except Exception as exc:  # a bug in a check must not end the scan
            errors.append(
                ReportError(
                    f"not checked by {check.name}: internal error {type(exc).__name__}; "
                    "please report it",
                    path=walked.relpath,
                )
            )
    if backup_name(walked.path.name) is not None:
        # nothing reads a backup: its connection settings are not live, its passwords
        # and keys are committed all the same
        findings = [f for f in findings if f.rule_id.startswith(_SECRET_RULE_PREFIXES)]
    marks = _suppressions(source)
    errors.extend(ReportError(p.message, path=walked.relpath) for p in marks.problems)

    # A check may place a finding in another file it read (a compose file's env_file, a
    # config dict imported by a connection site): that file's suppressions and line texts
    # apply to it (_line_texts), not this file's.
    def elsewhere(item: Finding) -> bool:
        return item.path is not None and item.path != walked.relpath

    kept = [f for f in findings if elsewhere(f) or not marks.silences(f.rule_id, f.line)]
    texts = _line_texts(source, kept, ctx)
    kept = [f for f in kept if not elsewhere(f) or id(f) in texts]
    if not findings and not errors:
        return _NOTHING_FOUND
    return FileOutcome(
        findings=tuple(kept),
        line_texts=tuple(texts.get(id(f), "") for f in kept),
        errors=tuple(errors),
        examined=True,
        suppressed=len(findings) - len(kept),
    )


@contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """ast.parse allocates hundreds of thousands of nodes for a large file, none in a
    reference cycle; the cyclic collector would traverse them over and over while
    they are built (a quarter of the scan time, measured in docs/scan.md). It is
    paused while a batch is analysed and runs once, over the young objects only,
    after it, so memory stays bounded."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if was_enabled:
            gc.enable()


def _scan_chunk(chunk: Sequence[WalkedFile], ctx: ScanContext, max_size: int) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    for start in range(0, len(chunk), _CHUNK):
        with _cyclic_collector_paused():
            outcomes.extend(
                scan_file(walked, ctx, max_size) for walked in chunk[start : start + _CHUNK]
            )
    return outcomes


def _regrade(finding: Finding, settings: ScanSettings) -> Finding:
    level = settings.severity.get(finding.rule_id)
    return finding if level is None else dataclasses.replace(finding, severity_override=level)


def _named_in_reports(walked: WalkedFile) -> WalkedFile:
    """The file's names are the user's own: scrub leaves them whole (a password
    `postgres` must not turn `django-postgres-vue/x.py` into `django-***-vue/x.py`)."""
    register_public_name(walked.relpath)
    register_public_name(str(walked.path))
    return walked


def _release_parsed_modules() -> None:
    """Drop the modules the Python check parsed to follow imports (python.module's
    cache of up to 128 syntax trees) once every file is analysed: after a one-process
    scan of the benchmark tree they were 316,000 of the 364,000 objects the cyclic
    collector tracks, which every later full collection traverses, the interpreter's
    own at exit included (0.45 CPU s at exit, a fifth of the run). The cache is keyed
    by each file's path, mtime and size, so dropping it changes no answer, only what
    a later scan in the same process could reuse. Worker processes keep theirs: they
    end without the interpreter's exit."""
    from verifyfull.scan.python import module  # imported by load_checks already

    module.release_parsed()


def walker_for(settings: ScanSettings) -> Walker:
    return Walker(
        settings.project_root,
        exclude=settings.exclude,
        respect_gitignore=settings.respect_gitignore,
    )


def candidate_files(walker: Walker, paths: Sequence[Path]) -> Iterator[WalkedFile]:
    """The walked files some check wants, as the scan analyses them (also counted by
    benchmarks/pool_threshold.py)."""
    return (
        _named_in_reports(w)
        for w in walker.walk(paths, _is_candidate)
        if _is_candidate(w.path.name)
    )


def scan(
    paths: Sequence[Path],
    settings: ScanSettings,
    *,
    select: frozenset[str] = frozenset(),
    ignore: frozenset[str] = frozenset(),
    baseline: Path | None = None,
    write_baseline: bool = False,
    jobs: int | None = None,
) -> ScanResult:
    """Scan `paths` (files or directories) and return the report.

    select/ignore: rule ids (already parsed); empty select means every rule.
    baseline: with write_baseline, record the current findings there; without,
    hide the findings it holds.
    """
    walker = walker_for(settings)
    register_public_name(str(settings.project_root))
    candidates = candidate_files(walker, paths)
    ctx = ScanContext(root=settings.project_root, policy=settings.policy)
    work = partial(_scan_chunk, ctx=ctx, max_size=settings.max_file_size)
    outcomes = dispatch.run(candidates, work, jobs or settings.jobs)
    _release_parsed_modules()
    errors = [
        ReportError(f"not checked: {skip.reason}", path=skip.relpath)
        for skip in walker.skipped
        if checks_for(Path(skip.relpath).name)
    ]

    findings: list[Finding] = []
    line_text: dict[int, str] = {}
    suppressed = 0
    files = 0
    for outcome in outcomes:
        errors.extend(outcome.errors)
        suppressed += outcome.suppressed
        files += outcome.examined
        for item, text in zip(outcome.findings, outcome.line_texts, strict=True):
            if (select and item.rule_id not in select) or item.rule_id in ignore:
                continue
            item = _regrade(item, settings)
            line_text[id(item)] = text
            findings.append(item)
    findings = _merge_same_place(findings, line_text)
    # Suppressions and baselines written at the calls a relocated finding acts through.
    related_files = relocated.RelatedFiles(settings.project_root)
    findings, silenced = relocated.silenced_at_calls(findings, related_files)
    suppressed += silenced

    def text_of(item: Finding) -> str:
        return line_text.get(id(item), "")

    baselined = 0
    written: int | None = None
    if baseline is not None and write_baseline:
        written = baseline_file.write(baseline, findings, text_of)
    elif baseline is not None:
        known = baseline_file.load(baseline)
        fresh = baseline_file.new_findings(findings, known, text_of)
        fresh, _ = relocated.baselined_at_calls(fresh, related_files, baseline_file.holds_at(known))
        baselined = len(findings) - len(fresh)
        findings = fresh
    report = Report(findings=tuple(findings), errors=tuple(errors), files=files)
    return ScanResult(report, baselined=baselined, suppressed=suppressed, baseline_written=written)
