"""JSON files (app settings, Kubernetes manifests as JSON, devcontainer.json)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import ConfigParseError, worth_parsing
from verifyfull.scan.config.tree import collect_tree


def _spelled(value: str) -> str:
    return json.dumps(value)[1:-1]


@file_check(suffixes=(".json",))
def check_json(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    try:
        data = json.loads(src.text)
    except json.JSONDecodeError as exc:
        raise ConfigParseError(
            f"JSON does not parse at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "fix the syntax, or exclude the file in [tool.verifyfull]",
        ) from None
    except RecursionError:
        raise ConfigParseError("JSON nested too deeply to read", "flatten it") from None
    tree = collect_tree(src, data, spell=_spelled)
    return judge_all(src, tree.settings, tree.commands, ctx.policy)
