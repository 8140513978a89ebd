"""Settings and commands from parsed nested data (TOML and JSON documents).

The parsers of those formats give values without positions, so each value is
placed back on the first line that holds its key and its text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.entries import entry_keys
from verifyfull.scan.config.judge import command_worth_judging, worth_placing
from verifyfull.scan.config.model import Command, ConfigParseError, Setting
from verifyfull.scan.config.words import place_words, split_command

_ARGV_KEYS = frozenset({"entrypoint", "command", "cmd", "args"})
_MAX_DEPTH = 200

# How a string value is written in the file (JSON escapes it, TOML mostly not).
Spelling = Callable[[str], str]
# Whether a string value is an expression of the format, not a literal (ARM's
# "[parameters('dbPassword')]").
Expression = Callable[[str], bool]


def _never(value: str) -> bool:
    return False


@dataclass
class Tree:
    settings: list[Setting] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)


@dataclass
class _Locator:
    """Finds where a value is written. Values are visited in file order (json and
    tomllib keep it), so the search resumes at the last place found and wraps
    around once: linear in the file for a whole document."""

    lines: list[str]
    spell: Spelling
    expression: Expression = _never
    cursor: int = 0  # 0-based index of the line of the last value placed

    def place(self, key: str, value: str) -> tuple[int, int]:
        written = self.spell(value.split("\n", 1)[0]) if value else ""
        count = len(self.lines)
        key_only: tuple[int, int] | None = None
        for step in range(count):
            index = (self.cursor + step) % count
            line = self.lines[index]
            if key not in line:
                continue
            column = line.find(written) if written else line.find(key)
            if column >= 0:
                self.cursor = index
                return index + 1, column + 1
            if key_only is None:
                key_only = (index + 1, line.find(key) + 1)
        return key_only or (1, 1)


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def collect_tree(
    src: SourceFile, data: Any, spell: Spelling, expression: Expression | None = None
) -> Tree:
    locator = _Locator(src.text.splitlines(), spell, expression or _never)
    tree = Tree()
    _walk(src, locator, data, (), tree, 0)
    return tree


def _walk(
    src: SourceFile, loc: _Locator, data: Any, context: tuple[str, ...], tree: Tree, depth: int
) -> None:
    if depth > _MAX_DEPTH:
        raise ConfigParseError("document nested too deeply to read", "flatten it")
    if isinstance(data, Mapping):
        if _env_pair(loc, data, context, tree):
            return  # {"name": X, "value": Y} is the setting X=Y, nothing else
        for raw_key, value in data.items():
            key = str(raw_key)
            text = _text(value)
            if key.lower() in _ARGV_KEYS and (isinstance(value, str) or _all_text(value)):
                words = split_command(value) if isinstance(value, str) else list(value)
                if command_worth_judging(words):
                    line, column = loc.place(key, words[0])
                    tree.commands.append(Command(tuple(place_words(src, words, line, column))))
            elif text is not None:
                if not loc.expression(text) and worth_placing(key, text):
                    line, column = loc.place(key, text)
                    tree.settings.append(Setting(key, text, line, column, context))
            else:
                _walk(src, loc, value, (*context, key), tree, depth + 1)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, str) and "=" in item and context:
                key, _, value = item.partition("=")
                if worth_placing(key, value):
                    line, column = loc.place(key, item)
                    tree.settings.append(Setting(key, value, line, column + len(key) + 1, context))
            elif not isinstance(item, str):
                _walk(src, loc, item, context, tree, depth + 1)


def _all_text(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _env_pair(loc: _Locator, data: Mapping[Any, Any], context: tuple[str, ...], tree: Tree) -> bool:
    """{"name": X, "value": Y} entries and their kin (k8s.entry_keys: Kubernetes and
    ARM manifests, ECS container definitions, Render, Beanstalk)."""
    keys = entry_keys([k for k in data if isinstance(k, str)])
    if keys is None or not isinstance(data[keys[0]], str):
        return False
    name = data[keys[0]]
    text = _text(data[keys[1]])
    if text is not None and not loc.expression(text) and worth_placing(name, text):
        line, column = loc.place(keys[1], text)
        tree.settings.append(Setting(name, text, line, column, context))
    return True
