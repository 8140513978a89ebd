"""The driver versions a project pins, read from its lock and requirement files.

conninfo models the pinned driver versions of requirements/constraints.txt
(SQLAlchemy 2.0). Where a behaviour changed between versions and the project
itself pins an older one, the scanner must judge the project with its own
version: SQLAlchemy before 1.4 still loads the `postgres://` alias that 1.4
removed. Only files at the project root are read (poetry.lock, Pipfile.lock,
requirements*.txt, pyproject.toml), each at most 2 MB, once per root and process.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from verifyfull.scan.api import CheckSkipped

_MAX_BYTES = 2_000_000
_PIN = re.compile(r"^\s*sqlalchemy\s*(?:\[[^\]]*\])?\s*={1,3}\s*([0-9][0-9a-z.]*)", re.I | re.M)
_POETRY_DEP = re.compile(r'^\s*sqlalchemy\s*=\s*"[=^~]*\s*([0-9][0-9.]*)"', re.I | re.M)


def _version(text: str) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", text)[:3]
    return tuple(int(p) for p in parts) if parts else None


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


@functools.lru_cache(maxsize=64)
def sqlalchemy_version(root: Path) -> tuple[int, ...] | None:
    """The SQLAlchemy version the project at `root` locks or pins, if it says."""
    # Imported here: the config package imports the Python checks, which import this.
    from verifyfull.scan.config.toml import load as toml_load

    lock = _read(root / "poetry.lock")
    if lock is not None:
        try:
            packages = toml_load(lock).get("package", [])
        except (CheckSkipped, AttributeError):
            packages = []
        for package in packages:
            if str(package.get("name", "")).lower() == "sqlalchemy":
                return _version(str(package.get("version", "")))
    pipfile = _read(root / "Pipfile.lock")
    if pipfile is not None:
        try:
            document = json.loads(pipfile)
        except ValueError:
            document = {}
        for section in ("default", "develop"):
            entry = (
                document.get(section, {}).get("sqlalchemy") if isinstance(document, dict) else None
            )
            if isinstance(entry, dict) and "version" in entry:
                return _version(str(entry["version"]))
    for path in sorted(root.glob("requirements*.txt")):
        text = _read(path)
        if text and (match := _PIN.search(text)):
            return _version(match.group(1))
    pyproject = _read(root / "pyproject.toml")
    if pyproject and (match := _POETRY_DEP.search(pyproject) or _PIN.search(pyproject)):
        return _version(match.group(1))
    return None


def loads_postgres_alias(root: Path) -> bool:
    """Whether the project's SQLAlchemy still loads `postgres://` (before 1.4)."""
    version = sqlalchemy_version(root)
    return version is not None and version < (1, 4)
