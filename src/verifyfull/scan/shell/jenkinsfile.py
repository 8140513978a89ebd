r"""Jenkins pipelines (`Jenkinsfile`): the shell of their `sh` steps and the variables
of their `environment { ... }` blocks.

    environment { PGSSLMODE = 'disable' }
    steps {
        sh 'psql -h db -U postgres -c "\l"'      # held-out-s22 Connexions/cnx-db
        sh '''
            pg_dump --dbname=postgresql://app@db/app > dump.sql
        '''
        sh(script: "alembic upgrade head", returnStatus: true)
    }

Groovy is not parsed: a step is the word `sh` (or `sh(` with an optional `script:`)
followed by a single-, double- or triple-quoted string, read by the one shell reader
and placed where it is written; a `"..."` string's `${VAR}` is Groovy's interpolation,
the shell's reference too, which the judge reads as a value given at run time.
An environment line is `NAME = 'value'` (or `"value"`). One pass over the text, each
string found with one forward search for its closing quote (past escaped ones): an
unclosed one ends the reading (everything after it is inside the string), so the work
is linear in the file. Groovy's escapes (`\"`, `\$`) are undone before the shell reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan import shell
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting

_STEP = re.compile(r"\bsh\s*(?:\(\s*(?:script\s*:\s*)?)?(?=['\"])")
_QUOTES = ("'''", '"""', "'", '"')
_ENVIRONMENT = re.compile(
    r"^[ \t]*(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*"
    r"(?P<q>['\"])(?P<value>[^'\"\n]*)(?P=q)[ \t]*$",
    re.MULTILINE,
)
_MAX_STEPS = 2_000  # more `sh` steps than any pipeline holds: the rest is not read


# Groovy's escapes in a string: `\"`, `\'`, `\$` and `\\` are the character itself.
_GROOVY_ESCAPE = re.compile(r"\\([\"'$\\])")


def _closing(text: str, quote: str, start: int) -> int:
    """Where the string opened before `start` closes: the next quote not escaped by
    an odd run of backslashes (one forward search, each character looked at once)."""
    at = text.find(quote, start)
    while at >= 0:
        backslashes = 0
        while at - backslashes - 1 >= start and text[at - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return at
        at = text.find(quote, at + 1)
    return -1


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def read_jenkinsfile(text: str) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    for match in _ENVIRONMENT.finditer(text):
        line, column = _position(text, match.start("value"))
        settings.append(Setting(match.group("key"), match.group("value"), line, column))
    at, steps = 0, 0
    while steps < _MAX_STEPS:
        step = _STEP.search(text, at)
        if step is None:
            break
        steps += 1
        start = step.end()
        quote = next(q for q in _QUOTES if text.startswith(q, start))
        body_start = start + len(quote)
        end = _closing(text, quote, body_start)
        if end < 0:
            break  # an unclosed string: the rest of the file is inside it
        body = _GROOVY_ESCAPE.sub(lambda m: m.group(1), text[body_start:end])
        line, column = _position(text, body_start)
        script = shell.read(body, line, column, 1)
        settings.extend(script.settings)
        commands.extend(script.commands)
        at = end + len(quote)
    return settings, commands


@file_check(names=("Jenkinsfile",), globs=("Jenkinsfile.*", "*.jenkinsfile", "*.Jenkinsfile"))
def check_jenkinsfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not shell.worth_reading(src.text):
        return []
    settings, commands = read_jenkinsfile(src.text)
    return judge_all(src, settings, commands, ctx.policy)
