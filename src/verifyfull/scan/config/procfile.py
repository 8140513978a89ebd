"""Procfiles (Heroku, Dokku, honcho, foreman): `process: command` lines.

Each command is split into words; `KEY=VALUE` words before the program are
the environment of that command (settings), the rest one command line, so
`release: PGSSLMODE=disable alembic upgrade head` and `worker: cockroach
start-single-node --insecure` are judged as anywhere else.

`shell_words` is the one seam for the shell lexer (issue 13 class 1): it
splits with shlex today; the shared lexer replaces that call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting, Word, worth_parsing
from verifyfull.scan.config.words import command_words

_PROCESS = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\s*:\s*(?P<command>\S.*)$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shell_words(src: SourceFile, text: str, line: int, column: int) -> list[Word]:
    """The words of one shell command line, placed in the file."""
    return command_words(src, text, line, column)


def read_procfile(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    for number, raw in enumerate(src.lines, start=1):
        match = _PROCESS.match(raw)
        if match is None or raw.lstrip().startswith("#"):
            continue
        words = shell_words(src, match.group("command"), number, match.start("command") + 1)
        program = 0
        while program < len(words) and _ASSIGNMENT.match(words[program].text):
            word = words[program]
            key, _, value = word.text.partition("=")
            settings.append(Setting(key, value, word.line, word.column + len(key) + 1))
            program += 1
        if program < len(words):
            commands.append(Command(tuple(words[program:])))
    return settings, commands


@file_check(names=("Procfile",), globs=("Procfile.*",))
def check_procfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    settings, commands = read_procfile(src)
    return judge_all(src, settings, commands, ctx.policy)
