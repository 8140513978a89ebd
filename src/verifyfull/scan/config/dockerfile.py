"""Dockerfiles and Containerfiles: ENV/ARG values and CMD/ENTRYPOINT/RUN commands.

The base image of the stage (FROM cockroachdb/cockroach, FROM postgres) is the
hint for exec-form commands that name no program: the image's entrypoint runs
them (`CMD ["start-single-node", "--insecure"]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting, Word, worth_parsing
from verifyfull.scan.config.words import command_words, place_words, split_command

_INSTRUCTION = re.compile(r"^\s*(?P<op>[A-Za-z]+)\s+(?P<args>.*)$", re.DOTALL)
_PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_.]*)=(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*)")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, joined text) of each instruction, continuations joined."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            start = number
        elif raw.lstrip().startswith("#"):
            continue  # comment lines inside a continued instruction are dropped
        if raw.rstrip().endswith("\\"):
            parts.append(raw.rstrip()[:-1])
            continue
        parts.append(raw)
        yield start, " ".join(parts)
        parts = []
    if parts:
        yield start, " ".join(parts)


def _env(args: str, line: int, src: SourceFile) -> list[Setting]:
    pairs = list(_PAIR.finditer(args))
    if not pairs:  # legacy form: ENV KEY value with spaces
        key, _, value = args.strip().partition(" ")
        pairs_legacy = [(key, value.strip())] if key and value.strip() else []
        return [_placed(src, line, k, v) for k, v in pairs_legacy]
    return [_placed(src, line, m.group("key"), _unquote(m.group("value"))) for m in pairs]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _placed(src: SourceFile, line: int, key: str, value: str) -> Setting:
    word = place_words(src, [key], line, 1)[0]
    value_col = src.line_text(word.line).find(value, word.column) if value else -1
    column = value_col + 1 if value_col >= 0 else word.column
    return Setting(key, value, word.line, column)


def _command(args: str, line: int, src: SourceFile, hint: str) -> Command | None:
    stripped = args.strip()
    words: list[Word]
    if stripped.startswith("["):
        try:
            argv = json.loads(stripped)
        except json.JSONDecodeError:
            argv = None
        if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            words = place_words(src, argv, line, 1)
        else:
            words = command_words(src, stripped, line, 1)
    else:
        words = place_words(src, split_command(stripped), line, 1)
    return Command(tuple(words), hint) if words else None


def parse_dockerfile(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    image = ""
    for line, text in logical_lines(src.text):
        match = _INSTRUCTION.match(text)
        if match is None:
            continue
        op, args = match.group("op").upper(), match.group("args")
        if op == "FROM":
            image = next((w for w in args.split() if not w.startswith("--")), "")
        elif op in ("ENV", "ARG"):
            settings.extend(_env(args, line, src))
        elif op in ("CMD", "ENTRYPOINT", "RUN"):
            command = _command(args, line, src, image)
            if command is not None:
                commands.append(command)
    return settings, commands


@file_check(
    names=("Dockerfile", "Containerfile"),
    globs=("Dockerfile.*", "*.dockerfile", "*.Dockerfile", "Containerfile.*"),
)
def check_dockerfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    settings, commands = parse_dockerfile(src)
    return judge_all(src, settings, commands, ctx.policy)
