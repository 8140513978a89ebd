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
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.config.words import place_words
from verifyfull.scan.shell.sourced import sourced_findings, sourced_only

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


def _exec_argv(args: str, line: int, column: int, src: SourceFile) -> list[Word] | None:
    """The argv of an exec-form instruction (a JSON list of strings), placed; None for
    the shell form (Docker reads a list that is no valid JSON as shell form too)."""
    stripped = args.strip()
    if not stripped.startswith("["):
        return None
    try:
        argv = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        return place_words(src, argv, line, column)
    return None


def _commands(
    args: str, line: int, column: int, src: SourceFile, hint: str
) -> tuple[list[Setting], list[Command]]:
    """Exec form (a JSON list: the argv, and its `sh -c` script read as shell) or
    shell form (read by the shell reader, `/bin/sh -c` being what Docker runs; its
    `export X=...` holds for that instruction only)."""
    argv = _exec_argv(args, line, column, src)
    if argv is not None:
        return [], shell.expand_argv(argv, hint)
    script = shell.read(args, line, column, 1)
    settings = [dataclasses.replace(s, local=True) for s in script.settings]
    return settings, [Command(c.words, hint, c.stdin, c.piped) for c in script.commands]


def _instructions(src: SourceFile) -> Iterator[tuple[str, str, int, int, str]]:
    """(OP, arguments, line, column of the arguments, the stage's base image) of each
    instruction."""
    image = ""
    for line, written in raw_instructions(src.text):
        match = _INSTRUCTION.match(written)
        if match is None:
            continue
        op, args = match.group("op").upper(), match.group("args")
        if op == "FROM":
            image = next((w for w in args.split() if not w.startswith("--")), "")
        yield op, args, line, match.start("args") + 1, image


_Written = tuple[str, int, int]  # an instruction's arguments, line and column


def start_commands(src: SourceFile) -> list[Command]:
    """The commands the final stage's image starts: ENTRYPOINT with CMD as its
    arguments when ENTRYPOINT is exec form (a shell-form CMD becomes `/bin/sh -c
    CMD` there), a shell-form ENTRYPOINT alone (Docker ignores CMD then), or CMD.
    Read as every instruction's commands are (_commands): the argv and its `sh -c`
    script, or the shell form by the shell reader."""
    entry: _Written | None = None
    cmd: _Written | None = None
    image = ""
    for op, args, line, column, base in _instructions(src):
        if op == "FROM":  # a new stage: only the last one's is the image's
            entry, cmd, image = None, None, base
        elif op in ("ENTRYPOINT", "CMD"):
            placed = (args, line, column)
            entry, cmd = (placed, cmd) if op == "ENTRYPOINT" else (entry, placed)
    try:
        if entry is None:
            return _commands(*cmd, src, image)[1] if cmd is not None else []
        head = _exec_argv(*entry, src)
        if head is None:
            return _commands(*entry, src, image)[1]
        if cmd is None:
            return shell.expand_argv(head, image)
        tail = _exec_argv(*cmd, src)
        if tail is None:
            args, line, column = cmd
            tail = [Word("/bin/sh", line, column), Word("-c", line, column)]
            tail.append(Word(args, line, column))
        return shell.expand_argv([*head, *tail], image)
    except shell.ShellError:
        return []


def parse_dockerfile(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    for op, args, line, column, image in _instructions(src):
        if op in ("ENV", "ARG"):
            joined = " ".join(part.rstrip().removesuffix("\\") for part in args.split("\n"))
            settings.extend(_env(joined, line, src))
        elif op in ("CMD", "ENTRYPOINT", "RUN"):
            more, run = _commands(args, line, column, src, image)
            settings.extend(more)
            commands.extend(run)
    return settings, commands


@file_check(
    names=("Dockerfile", "Containerfile"),
    globs=("Dockerfile.*", "*.dockerfile", "*.Dockerfile", "Containerfile.*"),
)
def check_dockerfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    # RUN . ./deploy/vars: the sourced file is found from the build context, then the root.
    if not shell.worth_reading(src.text):
        return sourced_only(src, ctx, lambda: parse_dockerfile(src)[1])
    settings, commands = parse_dockerfile(src)
    # The image runs the project's own Python code: its connection sites are judged in
    # Python, so components no .py reads reach no connection (image_code.py).
    own = runs_project_code(start_commands(src), src.path.parent, ctx.root)
    found = judge_all(src, settings, commands, ctx.policy, own_code=own is not None)
    return [*found, *sourced_findings(src, commands, ctx)]
