"""Whether the project being fixed depends on verifyfull (so `--use-guard` may call it).

Read from pyproject.toml (PEP 621 dependencies and extras, Poetry dependencies)
and requirements*.txt at the project root; `[tool.verifyfull]` alone (scanner
settings) is not a dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

_NAME = re.compile(r"^\s*verifyfull(?![A-Za-z0-9_.-]*[A-Za-z0-9])", re.IGNORECASE)


def _names(requirements: Iterable[Any]) -> bool:
    return any(isinstance(r, str) and _NAME.match(r) for r in requirements)


def _pyproject(path: Path) -> bool:
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError, TOMLKitError):
        return False
    project = document.get("project", {})
    if _names(project.get("dependencies", [])):
        return True
    if any(_names(extra) for extra in project.get("optional-dependencies", {}).values()):
        return True
    poetry = document.get("tool", {}).get("poetry", {})
    return any(
        "verifyfull" in {name.lower() for name in poetry.get(table, {})}
        for table in ("dependencies", "dev-dependencies")
    )


def depends_on_verifyfull(project_root: Path) -> bool:
    if _pyproject(project_root / "pyproject.toml"):
        return True
    for path in sorted(project_root.glob("requirements*.txt")):
        try:
            if _names(path.read_text(encoding="utf-8").splitlines()):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False
