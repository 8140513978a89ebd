"""JSON files (app settings, Kubernetes manifests as JSON, devcontainer.json, ARM
templates such as azuredeploy.json).

In an ARM template or parameters file (its `$schema` says so) a string
`"[parameters('dbPassword')]"` is a template expression evaluated at deploy
time, not a literal: it is not judged (`"[[` escapes a literal `[`).
"""

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


def _arm_expression(value: str) -> bool:
    text = value.strip()
    return text.startswith("[") and text.endswith("]") and not text.startswith("[[")


def _is_arm(data: object) -> bool:
    schema = data.get("$schema") if isinstance(data, dict) else None
    return isinstance(schema, str) and "deployment" in schema.lower()


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
    expression = _arm_expression if _is_arm(data) else None
    tree = collect_tree(src, data, spell=_spelled, expression=expression)
    return judge_all(src, tree.settings, tree.commands, ctx.policy)
