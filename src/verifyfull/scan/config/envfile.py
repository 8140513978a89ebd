"""`.env` files (dotenv syntax, also `.envrc` and `*.env`): KEY=VALUE lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import Setting, worth_parsing

_LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?P<rest>.*)$")


def parse_value(rest: str) -> tuple[str, int]:
    """The value of a dotenv line and its offset in `rest` (quotes and comments removed)."""
    stripped = rest.rstrip()
    if stripped[:1] in ("'", '"'):
        quote = stripped[0]
        end = stripped.find(quote, 1)
        while quote == '"' and end > 0 and stripped[end - 1] == "\\":
            end = stripped.find(quote, end + 1)
        body = stripped[1:end] if end > 0 else stripped[1:]
        if quote == '"':
            body = body.replace('\\"', '"').replace("\\n", "\n")
        return body, 1
    comment = re.search(r"\s#", stripped)
    return (stripped[: comment.start()] if comment else stripped).strip(), 0


def parse_env(text: str) -> list[Setting]:
    settings: list[Setting] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#"):
            continue
        match = _LINE.match(raw)
        if match is None:
            continue
        value, offset = parse_value(match.group("rest"))
        settings.append(
            Setting(match.group("key"), value, number, match.start("rest") + offset + 1)
        )
    return settings


@file_check(globs=(".env", ".env.*", "*.env", ".envrc"))
def check_env_file(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    return judge_settings(src, parse_env(src.text), ctx.policy)
