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
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

MAX_INI_BYTES = 256_000
_TOP = "verifyfull top-level options"
_TOP_HEADER = f"[{_TOP}]\n"


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
