"""Dockerfiles and Containerfiles: ENV/ARG values and CMD/ENTRYPOINT/RUN commands
(shell form read by the shell reader, scan/shell; exec form's `sh -c` script too).

The base image of the stage (FROM cockroachdb/cockroach, FROM postgres) is the
hint for exec-form commands that name no program: the image's entrypoint runs
them (`CMD ["start-single-node", "--insecure"]`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator

from verifyfull.findings import Finding
from verifyfull.scan import shell
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.image_code import runs_project_code
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting
from verifyfull.scan.config.words import place_words

_INSTRUCTION = re.compile(r"^\s*(?P<op>[A-Za-z]+)\s+(?P<args>.*)$", re.DOTALL)
_PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_.]*)=(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*)")


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


def raw_instructions(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each instruction as written: continuation lines
    keep their `\\` and newline (the shell reader joins them and keeps every word's
    line), and the comment or blank lines Docker drops inside a continued
    instruction become a lone `\\`, so the lines keep their numbers."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            start = number
        elif not raw.strip() or raw.lstrip().startswith("#"):
            parts.append("\\")
            continue
        parts.append(raw)
        if not raw.rstrip().endswith("\\"):
            yield start, "\n".join(parts)
            parts = []
    if parts:
        yield start, "\n".join(parts)


def _commands(
    args: str, line: int, column: int, src: SourceFile, hint: str
) -> tuple[list[Setting], list[Command]]:
    """Exec form (a JSON list: the argv, and its `sh -c` script read as shell) or
    shell form (read by the shell reader, `/bin/sh -c` being what Docker runs; its
    `export X=...` holds for that instruction only)."""
    stripped = args.strip()
    if stripped.startswith("["):
        try:
            argv = json.loads(stripped)
        except json.JSONDecodeError:
            argv = None
        if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
            return [], shell.expand_argv(place_words(src, argv, line, column), hint)
    script = shell.read(args, line, column, 1)
    settings = [dataclasses.replace(s, local=True) for s in script.settings]
    return settings, [Command(c.words, hint, c.stdin, c.piped) for c in script.commands]


def parse_dockerfile(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    image = ""
    for line, written in raw_instructions(src.text):
        match = _INSTRUCTION.match(written)
        if match is None:
            continue
        op, args = match.group("op").upper(), match.group("args")
        if op == "FROM":
            image = next((w for w in args.split() if not w.startswith("--")), "")
        elif op in ("ENV", "ARG"):
            joined = " ".join(part.rstrip().removesuffix("\\") for part in args.split("\n"))
            settings.extend(_env(joined, line, src))
        elif op in ("CMD", "ENTRYPOINT", "RUN"):
            more, run = _commands(args, line, match.start("args") + 1, src, image)
            settings.extend(more)
            commands.extend(run)
    return settings, commands


@file_check(
    names=("Dockerfile", "Containerfile"),
    globs=("Dockerfile.*", "*.dockerfile", "*.Dockerfile", "Containerfile.*"),
)
def check_dockerfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not shell.worth_reading(src.text):
        return []
    settings, commands = parse_dockerfile(src)
    # The image runs the project's own Python code: its connection sites are judged in
    # Python, so components no .py reads reach no connection (image_code.py).
    own = runs_project_code(raw_instructions(src.text), src.path.parent, ctx.root)
    return judge_all(src, settings, commands, ctx.policy, own_code=own is not None)
