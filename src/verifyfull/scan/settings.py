"""`[tool.verifyfull]` in pyproject.toml: the project's scan settings.

    [tool.verifyfull]
    paths = ["src", "deploy"]          # what `verifyfull scan` scans with no PATH
    exclude = ["tests/fixtures/"]     # gitignore-style patterns, relative to the project
    select = ["VF1", "VF401"]          # ids, slugs or id prefixes
    ignore = ["VF404"]
    fail-on = "medium"
    baseline = ".verifyfull-baseline.json"
    respect-gitignore = true
    max-file-size = 5_000_000          # bytes; larger files are reported, not read
    jobs = 2                           # worker processes (default: one per core on a large tree)

    [tool.verifyfull.severity]
    VF104 = "high"

    [tool.verifyfull.policy]           # verifyfull.policy.Policy.with_overrides
    allow_verify_ca = true

The command line wins over the file. Unknown keys and bad values are refused
with the key named, never silently ignored.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifyfull import rules
from verifyfull.errors import UsageError
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.rules import Severity
from verifyfull.scan.walk import git_ignores_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomlkit

DEFAULT_MAX_FILE_SIZE = 5_000_000
_KEYS = (
    "paths",
    "exclude",
    "select",
    "ignore",
    "fail-on",
    "baseline",
    "respect-gitignore",
    "max-file-size",
    "jobs",
    "severity",
    "policy",
)


@dataclass(frozen=True)
class ScanSettings:
    project_root: Path
    source: Path | None = None  # the pyproject.toml read, if any
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    fail_on: Severity = Severity.HIGH
    baseline: Path | None = None
    respect_gitignore: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    jobs: int | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)
    policy: Policy = DEFAULT_POLICY


def find_project_root(start: Path) -> tuple[Path, Path | None]:
    """The project `start` belongs to: the nearest directory at or above it holding a
    pyproject.toml (returned too, for its settings), a setup.cfg or a .git. Scanning
    one file or a subfolder (the pre-commit hook passes file names) then reports the
    same paths and resolves the same imports as `scan .` at the root, whatever the
    working directory.

    A directory the enclosing repository ignores is not part of that project (a
    downloaded or extracted tree in an ignored folder, as the walk also treats it):
    it is its own root, so the outer project's settings, code and pins never decide
    how the tree inside is read."""
    here = start if start.is_dir() else start.parent
    here = here.resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        marked = candidate.is_file()
        if marked or (directory / "setup.cfg").is_file() or (directory / ".git").exists():
            if directory != here and git_ignores_dir(here):
                return here, None
            return directory, candidate if marked else None
    return here, None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read {path}: {type(exc).__name__}", "fix the file's permissions or encoding"
        ) from None
    try:
        if sys.version_info >= (3, 11):
            return tomllib.loads(text)
        return dict(tomlkit.parse(text).unwrap())  # pragma: no cover
    except Exception as exc:  # both parsers raise their own error types
        raise UsageError(f"{path} is not valid TOML ({exc})", "fix the syntax") from None


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"[tool.verifyfull] {key} must be a list of strings, not {value!r}")


def _selection(key: str, value: Any) -> frozenset[str]:
    try:
        return rules.parse_selection(",".join(_str_list(key, value)))
    except KeyError as exc:
        raise UsageError(f"[tool.verifyfull] {key}: {exc.args[0]}") from None


def _severity(key: str, value: Any) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise UsageError(f"[tool.verifyfull] {key}: {exc}") from None


def parse_table(table: Mapping[str, Any], project_root: Path, source: Path | None) -> ScanSettings:
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise UsageError(
            f"unknown key {unknown[0]!r} in [tool.verifyfull]", f"use one of {', '.join(_KEYS)}"
        )
    values: dict[str, Any] = {}
    if "paths" in table:
        values["paths"] = _str_list("paths", table["paths"])
    if "exclude" in table:
        values["exclude"] = _str_list("exclude", table["exclude"])
    for key in ("select", "ignore"):
        if key in table:
            values[key] = _selection(key, table[key])
    if "fail-on" in table:
        values["fail_on"] = _severity("fail-on", table["fail-on"])
    if "baseline" in table:
        if not isinstance(table["baseline"], str):
            raise UsageError("[tool.verifyfull] baseline must be a file path string")
        values["baseline"] = project_root / table["baseline"]
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise UsageError("[tool.verifyfull] respect-gitignore must be true or false")
        values["respect_gitignore"] = table["respect-gitignore"]
    for key in ("max-file-size", "jobs"):
        if key in table:
            number = table[key]
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                raise UsageError(f"[tool.verifyfull] {key} must be a positive integer")
            values[key.replace("-", "_")] = number
    if "severity" in table:
        overrides = table["severity"]
        if not isinstance(overrides, dict):
            raise UsageError("[tool.verifyfull.severity] must be a table of rule = severity")
        severity: dict[str, Severity] = {}
        for rule_key, level in overrides.items():
            try:
                rule_id = rules.get(rule_key).id
            except KeyError as exc:
                raise UsageError(f"[tool.verifyfull.severity] {exc.args[0]}") from None
            severity[rule_id] = _severity(f"severity.{rule_key}", level)
        values["severity"] = severity
    if "policy" in table:
        if not isinstance(table["policy"], dict):
            raise UsageError("[tool.verifyfull.policy] must be a table")
        values["policy"] = DEFAULT_POLICY.with_overrides(table["policy"])
    return ScanSettings(project_root=project_root, source=source, **values)


def load_config_file(path: Path) -> ScanSettings:
    """Settings from a file named by --config: a pyproject.toml's [tool.verifyfull], or
    a TOML file with those keys at top level. Paths in it are relative to its folder."""
    if not path.is_file():
        raise UsageError(f"--config {path} is not a file", "name a pyproject.toml or a TOML file")
    document = _read_toml(path)
    tool = document.get("tool")
    table = tool.get("verifyfull") if isinstance(tool, dict) else None
    if table is None:
        table = {k: v for k, v in document.items() if k != "tool"}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.verifyfull] must be a table")
    return parse_table(table, path.resolve().parent, path)


def load(start: Path) -> ScanSettings:
    """Settings for a scan starting at `start` (defaults when no pyproject.toml has any)."""
    root, pyproject = find_project_root(start)
    if pyproject is None:
        return ScanSettings(project_root=root)
    document = _read_toml(pyproject)
    tool = document.get("tool", {})
    table = tool.get("verifyfull") if isinstance(tool, dict) else None
    if table is None:
        return ScanSettings(project_root=root, source=pyproject)
    if not isinstance(table, dict):
        raise UsageError(f"{pyproject}: [tool.verifyfull] must be a table")
    return parse_table(table, root, pyproject)
