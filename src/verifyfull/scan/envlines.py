"""The lines of an env file: `KEY=VALUE`, `export KEY=VALUE`, quotes and ` #` comments.

One reader for every place that reads env lines: the config check's env files
(scan/config/envfile.py) and the index of env templates the Python side asks
(scan/rendered_env.py), which cannot import the config package (it imports the
Python frameworks).
"""

from __future__ import annotations

import re

LINE = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?P<rest>.*)$")


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


def env_lines(text: str) -> list[tuple[str, str, int, int]]:
    """(key, value, line, 1-based column of the value) of every KEY=VALUE line."""
    found: list[tuple[str, str, int, int]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#"):
            continue
        match = LINE.match(raw)
        if match is None:
            continue
        value, offset = parse_value(match.group("rest"))
        found.append((match.group("key"), value, number, match.start("rest") + offset + 1))
    return found
