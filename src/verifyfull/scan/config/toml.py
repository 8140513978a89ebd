"""TOML files (pyproject.toml, fly.toml, app settings): string values and commands."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import ConfigParseError, worth_parsing
from verifyfull.scan.config.tree import collect_tree


def load(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigParseError(f"TOML does not parse: {exc}", "fix the syntax") from None
    import tomlkit  # pragma: no cover - Python 3.10
    from tomlkit.exceptions import TOMLKitError  # pragma: no cover

    try:  # pragma: no cover
        return tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:  # pragma: no cover
        raise ConfigParseError(f"TOML does not parse: {exc}", "fix the syntax") from None


@file_check(suffixes=(".toml",))
def check_toml(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    tree = collect_tree(src, load(src.text), spell=lambda value: value)
    return judge_all(src, tree.settings, tree.commands, ctx.policy)
