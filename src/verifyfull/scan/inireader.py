"""One bounded INI reader for every check that reads an INI file (session 12).

The config INI check (scan/config/ini.py) validates `.ini`/`.cfg` text with it; the
Python side reads with it the values a program's configparser takes from a file of the
tree (scan/python/config_files.py), aerich's `aerich.ini` (frameworks/aerich.py) and
alembic.ini's `[alembic]` section (frameworks/migrations.py). configparser as those
programs use it, with the same choices everywhere:

- interpolation off (`%(here)s` stays as written; a stray `%` is no error);
- duplicate sections and options allowed (strict=False), the last value wins;
- options written before the first `[section]` are top-level options (GDAL's
  osmconf.ini, git-style files): kept apart in `top_level`, never a section's;
- bounded: a file over MAX_INI_BYTES, unreadable or not UTF-8 is None, never an error;
- read once per file version (path, mtime, size).

Option names are lower-cased and values stripped, as configparser gives them; a
`[DEFAULT]` section's options appear in every section, as `parser.get` returns them.

configparser keeps no positions, so `ini_lines` walks the same structure line by line
(section headers, options, indented continuation lines) for every check that reports
where an option is written: the config INI check, alembic.ini's URL line, pgbouncer.ini's
section header.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

MAX_INI_BYTES = 256_000
_TOP = "verifyfull top-level options"
_TOP_HEADER = f"[{_TOP}]\n"


_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"^(?P<key>[^\s=:][^=:]*?)\s*[=:]\s*(?P<value>.*)$")


@dataclass(frozen=True)
class IniLine:
    """One meaningful line of INI text, with its place.

    kind is "section" (key = the section's name), "option" (key and value as written,
    stripped) or "continuation" (an indented line carrying on the previous option's
    value: value is the line, stripped). column is the value's 1-based column."""

    kind: str
    number: int
    section: str
    key: str
    value: str
    column: int


def ini_lines(text: str) -> Iterator[IniLine]:
    """The section headers, options and continuation lines of INI text, in order
    (blank and comment lines skipped; lines that are none of these are skipped)."""
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        header = _SECTION.match(raw)
        if header is not None:
            section = header.group("name").strip()
            yield IniLine("section", number, section, section, "", 1)
            continue
        if raw[:1].isspace():
            column = len(raw) - len(raw.lstrip()) + 1
            yield IniLine("continuation", number, section, "", stripped, column)
            continue
        option = _OPTION.match(raw)
        if option is not None:
            key, value = option.group("key").strip(), option.group("value").strip()
            yield IniLine("option", number, section, key, value, option.start("value") + 1)


def section_line(text: str, name: str) -> int | None:
    """The line of the first `[name]` header (names compared case-insensitively)."""
    wanted = name.lower()
    for line in ini_lines(text):
        if line.kind == "section" and line.key.lower() == wanted:
            return line.number
    return None


def option_line(text: str, section: str, key: str) -> int | None:
    """The line `key = ...` is last written on in [section], as configparser (strict off,
    option names case-insensitive) takes the last value; None when it is not written."""
    wanted, found = key.lower(), None
    for line in ini_lines(text):
        if line.kind == "option" and line.section == section and line.key.lower() == wanted:
            found = line.number
    return found


class IniError(ValueError):
    """The text is not INI: `problem` (configparser's first words) at `line` (1-based in
    the text as written, None when configparser gives none)."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class IniFile:
    sections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    top_level: Mapping[str, str] = field(default_factory=dict)

    def get(self, section: str, key: str) -> str | None:
        options = self.sections.get(section)
        return None if options is None else options.get(key.lower())

    def values_of(self, key: str, section: str | None = None) -> list[str]:
        """The key's value in `section`, or in every section holding it (file order)."""
        names = list(self.sections) if section is None else [section]
        return [v for name in names if (v := self.get(name, key)) is not None]


def parse_ini_text(text: str) -> IniFile:
    """The sections of INI text; IniError when configparser refuses it."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(_TOP_HEADER + text)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        errors = getattr(exc, "errors", None)
        line = getattr(exc, "lineno", None) or (errors[0][0] if errors else None)
        problem = first.split(":")[0] if ":" in first else first
        raise IniError(problem, line - 1 if line and line > 1 else None) from None
    sections = {
        name: MappingProxyType(dict(parser[name])) for name in parser.sections() if name != _TOP
    }
    defaults = set(parser.defaults())
    top = {k: v for k, v in parser[_TOP].items() if k not in defaults} if _TOP in parser else {}
    return IniFile(MappingProxyType(sections), MappingProxyType(top))


def read_ini(path: Path) -> IniFile | None:
    """The INI file at path; None when it is unreadable, larger than MAX_INI_BYTES, not
    UTF-8 or not INI."""
    try:
        info = path.stat()
    except OSError:
        return None
    if info.st_size > MAX_INI_BYTES:
        return None
    return _read(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> IniFile | None:
    text = read_bounded(Path(path), MAX_INI_BYTES)
    if text is None:
        return None
    try:
        return parse_ini_text(text)
    except IniError:
        return None


def read_bounded(path: Path, limit: int) -> str | None:
    """A small text file's UTF-8 text with universal newlines (as `open()` reads it);
    None when it is unreadable, larger than limit bytes or not UTF-8."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            return None
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError):
        return None
