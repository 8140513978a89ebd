"""JSON files (app settings, Kubernetes manifests as JSON, devcontainer.json, ARM
templates such as azuredeploy.json).

In an ARM template or parameters file (its `$schema` says so) a string
`"[parameters('dbPassword')]"` is a template expression evaluated at deploy
time, not a literal: it is not judged (`"[[` escapes a literal `[`).

A JSON template Terraform renders (`container_definitions.json.tpl` through
`template_file` / `templatefile`, also `.tftpl`, `.tmpl`) is what the deployed task
receives: it is read as JSON, its `${...}` holes left to the judges' stand-ins
(interpolation.neutral_dsn). A hole outside a string (`"cpu": ${cpu}`) is not JSON;
it is read as null for parsing only, every position still taken from the file.

A file its readers take as JSONC (devcontainer.json, `.vscode/*.json`, tsconfig.json) is
read with its comments and trailing commas blanked (positions kept), as VS Code reads it.
"""

from __future__ import annotations

import json
import re
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


# Terraform's template interpolation, one level of inner braces (`${var.m["k"]}`).
_HOLE = re.compile(r"\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)?\}")
TEMPLATE_GLOBS = ("*.json.tpl", "*.json.tftpl", "*.json.tmpl")


def _unhole(text: str) -> str:
    """The template with each hole outside a string replaced by `null` (same lines).
    One pass that tracks string state (a regex for string literals retried from every
    quote of an unterminated one: quadratic)."""
    out: list[str] = []
    index, last, size = 0, 0, len(text)
    in_string = False
    while index < size:
        char = text[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char == "$" and text.startswith("${", index):
            hole = _HOLE.match(text, index)
            if hole is not None:
                out.append(text[last:index])
                out.append("null")
                index = last = hole.end()
                continue
        index += 1
    out.append(text[last:])
    return "".join(out)


# Files their readers take as JSON with comments (VS Code's JSONC: `//` and `/* */`
# comments, trailing commas): devcontainer.json, .vscode/*.json, tsconfig/jsconfig
# (held-out-s13: deb999983/crawler's two were "not checked").
_JSONC_NAMES = re.compile(r"^(\.?devcontainer|tsconfig.*|jsconfig.*)\.json$", re.IGNORECASE)


def _jsonc(src: SourceFile) -> bool:
    return _JSONC_NAMES.match(src.path.name) is not None or src.path.parent.name == ".vscode"


def _uncomment(text: str) -> str:
    """JSONC as JSON: comments and trailing commas blanked with spaces, newlines kept, so
    every line and column is the file's. One pass that tracks string state."""
    out = list(text)
    index, size = 0, len(text)
    in_string = False
    comma: int | None = None  # a comma that may be trailing
    while index < size:
        char = text[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string, comma = True, None
        elif text.startswith("//", index) or text.startswith("/*", index):
            end = text.find("\n" if text[index + 1] == "/" else "*/", index + 2)
            end = size if end < 0 else end + (0 if text[index + 1] == "/" else 2)
            for at in range(index, end):
                if out[at] != "\n":
                    out[at] = " "
            index = end
            continue
        elif char == ",":
            comma = index
        elif char in "}]":
            if comma is not None:
                out[comma] = " "
            comma = None
        elif not char.isspace():
            comma = None
        index += 1
    return "".join(out)


def _is_arm(data: object) -> bool:
    schema = data.get("$schema") if isinstance(data, dict) else None
    return isinstance(schema, str) and "deployment" in schema.lower()


@file_check(suffixes=(".json",), globs=TEMPLATE_GLOBS)
def check_json(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    template = src.path.suffix.lower() != ".json"
    text = _unhole(src.text) if template else src.text
    try:
        data = json.loads(_uncomment(text) if _jsonc(src) else text)
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
