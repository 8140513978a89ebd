"""Shell text turned into the config model's settings and commands (issue 13, class 1).

One reader for every place shell is written: scripts (`*.sh`, `*.bash`, `*.zsh`,
a sh/bash shebang), Makefile recipes, CI `run:`/`script:` blocks, Dockerfile
`RUN`/`CMD`/`ENTRYPOINT` shell form, compose/Kubernetes `command:` strings and
the argument of `sh -c` / `bash -ecx` / `su -c`, which is read again as shell.
PowerShell's `$env:NAME = "..."` is the second, small dialect (powershell.py).

The API other readers call:

- `read(text, line, column, indent) -> Script`: the settings (`export X=...`,
  `X=... cmd`, `env X=... cmd`, plain `X=...`) and the commands of shell text
  written at (line, column) of the file; lines after the first start at
  column `indent` (a YAML block scalar's indentation + 1).
- `commands(text, line, column, indent) -> list[Command]`: only the commands.
- `expand_argv(words) -> list[Command]`: an argv already split (compose or
  Kubernetes lists, Dockerfile exec form, Python subprocess lists): the command
  itself plus the commands of its `sh -c` script.

Each Command's words are the assignments, the argument words and the
redirections (`>>`, target) as written; here-documents and here-strings are its
`stdin`. Judging stays in scan/config/judge.py.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from verifyfull.scan.config.model import Command, Setting, Word, worth_parsing
from verifyfull.scan.shell.argv import program, run_program_at
from verifyfull.scan.shell.lexer import ASSIGNMENT, MAX_DEPTH, ShellError, Simple, Token, lex

__all__ = [
    "Script",
    "ShellError",
    "commands",
    "expand_argv",
    "read",
    "script_index",
    "worth_reading",
]

# Programs whose `-c` argument is itself a shell script.
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "ksh", "mksh", "busybox", "su"})
_SHELL_ENDINGS = ("sh", "SH", "su", "box")
# Builtins and wrappers whose NAME=value arguments set variables.
_DECLARING = frozenset({"export", "readonly", "declare", "typeset", "local", "env"})
# Container tools whose `run`/`exec`/`create` take `-e NAME=value` / `--env NAME=value`:
# the container's environment, as a compose `environment:` entry is.
_CONTAINER_TOOLS = frozenset({"docker", "podman", "nerdctl", "docker-compose", "podman-compose"})
_CONTAINER_VERBS = frozenset({"run", "exec", "create"})
# How far after the tool its verb may stand (`docker container run`, `docker compose run`).
_VERB_REACH = 3


@dataclass(frozen=True)
class Script:
    settings: tuple[Setting, ...]
    commands: tuple[Command, ...]


@dataclass(frozen=True)
class _Placer:
    """Source offset -> (line, column) of the file the text is written in."""

    starts: tuple[int, ...]
    line: int
    column: int
    indent: int

    @classmethod
    def of(cls, text: str, line: int, column: int, indent: int) -> _Placer:
        starts = [0]
        index = text.find("\n")
        while index >= 0:
            starts.append(index + 1)
            index = text.find("\n", index + 1)
        return cls(tuple(starts), line, column, indent)

    def at(self, offset: int) -> tuple[int, int]:
        row = bisect_right(self.starts, offset) - 1
        base = self.column if row == 0 else self.indent
        return self.line + row, base + offset - self.starts[row]

    def word(self, token: Token, text: str | None = None) -> Word:
        line, column = self.at(token.start)
        return Word(token.text if text is None else text, line, column, token.expands)


# Words of shell text that the config markers (model.worth_parsing) do not hold but
# a client command judged here does: `pg_dump -h db app` names no "postgres".
_CLIENT_MARKERS = ("psql", "pg_", "createdb", "createuser", "vacuumdb", "pgbench", "cockroach")


def worth_reading(text: str) -> bool:
    """Whether shell text can hold anything the config checks report (cheap). The
    markers are looked for with quotes and backslashes removed too: `'cock'"roach"`
    is the word cockroach to the shell."""
    for candidate in (text, text.translate(_UNQUOTE)):
        if worth_parsing(candidate) or any(marker in candidate for marker in _CLIENT_MARKERS):
            return True
    return False


_UNQUOTE = str.maketrans("", "", "'\"\\\n")


def script_index(argv: Sequence[str]) -> int | None:
    """The index of argv's `sh -c` script, whose commands every reader gets as their
    own (read again: _simple_commands, expand_argv); None when it has none."""
    return _script_index(argv)


def _script_index(argv: Sequence[str]) -> int | None:
    """Index of the script of `sh -c SCRIPT` / `bash -ecx SCRIPT` / `su -c SCRIPT`
    anywhere in argv (after `docker exec ctr`, `kubectl exec -- ` and the like)."""
    for index, word in enumerate(argv):
        if not word.endswith(_SHELL_ENDINGS):
            continue
        name = program(word)
        if name not in _SHELLS:
            continue
        wants = False
        skip = False
        for later in range(index + 1, len(argv)):
            option = argv[later]
            if skip:  # the argument of `-o pipefail`
                skip = False
                continue
            if option in ("-o", "+o", "-O", "+O"):
                skip = True
                continue
            if option.startswith("--command="):
                return None  # su --command=SCRIPT: rare, and its place is inside the word
            if option in ("-c", "--command") or (
                name != "su"
                and option.startswith("-")
                and not option.startswith("--")
                and "c" in option[1:]
            ):
                wants = True
                if name == "su":
                    return later + 1 if later + 1 < len(argv) else None
                continue
            if option.startswith("-"):
                continue
            if wants:
                return later
            if name != "su":
                break  # `bash script.sh`: a file, not a script string
        return None
    return None


def _simple_commands(text: str, offsets: list[int] | None, depth: int) -> list[Simple]:
    """The simple commands of the text and, read again, of every `sh -c` script."""
    found: list[Simple] = []
    queue = [(lex(text, offsets, depth), depth)]
    while queue:
        simples, level = queue.pop()
        for simple in simples:
            found.append(simple)
            index = _script_index([t.text for t in simple.words])
            if index is not None:
                if level + 1 > MAX_DEPTH:
                    raise ShellError(
                        f"`sh -c` scripts nested deeper than {MAX_DEPTH}",
                        "simplify the script or exclude the file",
                    )
                token = simple.words[index]
                queue.append((lex(token.text, token.offsets, level + 1), level + 1))
    return found


def _settings(simple: Simple, place: _Placer) -> list[Setting]:
    """`X=1` alone or after `export`/`readonly`/...: the script's variables; `X=1 cmd`
    and `env X=1 cmd`: that command's only (Setting.local)."""
    tokens = list(simple.assignments)
    first = program(simple.words[0].text) if simple.words else ""
    declares = first in _DECLARING and first != "env"  # export, readonly, declare, ...
    local = bool(simple.words) and not declares
    if first in _DECLARING:
        tokens.extend(t for t in simple.words[1:] if ASSIGNMENT.match(t.text))
    settings = []
    for token in tokens:
        name, _, value = token.text.partition("=")
        name = name.rstrip("+")
        line, column = place.at(token.offset_at(len(name) + 1) if value else token.start)
        settings.append(Setting(name, value, line, column, local=local))
    for token, skip in _container_env(simple.words):
        name, _, value = token.text[skip:].partition("=")
        line, column = place.at(token.offset_at(skip + len(name) + 1))
        settings.append(Setting(name, value, line, column, local=True))
    return settings


def _container_env(words: Sequence[Token]) -> list[tuple[Token, int]]:
    """The `NAME=value` words a container tool's `run`/`exec`/`create` sets in the
    container (`-e X=1`, `--env X=1`, `--env=X=1`, `-eX=1`), each with the number of
    leading characters that are the option, not the assignment. `-e NAME` alone
    passes the caller's variable on: nothing written."""
    texts = [t.text for t in words]
    start = next(
        (
            verb + 1
            for tool, text in enumerate(texts)
            if program(text) in _CONTAINER_TOOLS
            for verb in range(tool + 1, min(tool + 1 + _VERB_REACH, len(texts)))
            if texts[verb] in _CONTAINER_VERBS
        ),
        None,
    )
    if start is None:
        return []
    found: list[tuple[Token, int]] = []
    for index in range(start, len(words)):
        text = texts[index]
        if text in ("-e", "--env") and index + 1 < len(words):
            candidate, skip = words[index + 1], 0
        elif text.startswith("--env="):
            candidate, skip = words[index], len("--env=")
        elif text.startswith("-e") and not text.startswith("-e="):
            candidate, skip = words[index], 2
        else:
            continue
        if ASSIGNMENT.match(candidate.text, skip):
            found.append((candidate, skip))
    return found


def _piped_text(writer: Simple | None) -> list[Token]:
    """What the command before `|` writes when it is written in the script: the
    arguments of `echo` / `printf` (past `sudo`, `env`, options), or the here-documents
    of `cat <<EOF`. Anything else writes what only running it shows."""
    if writer is None or not writer.words:
        return []
    words = writer.words
    index = run_program_at([t.text for t in words])
    if index is None:
        return []
    name = program(words[index].text)
    if name in ("echo", "printf"):
        return [t for t in words[index + 1 :] if not t.text.startswith("-")]
    if name == "cat" and len(words) == index + 1:
        return list(writer.heredocs)
    return []


def _command(simple: Simple, place: _Placer) -> Command | None:
    words = [place.word(t) for t in (*simple.assignments, *simple.words)]
    stdin = [place.word(t) for t in simple.heredocs]
    for op, target in simple.redirects:
        if op.endswith("<<<"):
            stdin.append(place.word(target))
        elif not op.endswith(("<<", "<<-")):
            words.extend((place.word(target, op), place.word(target)))
    if not words and not stdin:
        return None
    piped = tuple(place.word(t) for t in _piped_text(simple.piped_from))
    return Command(tuple(words), stdin=tuple(stdin), piped=piped)


def read(text: str, line: int = 1, column: int = 1, indent: int = 1) -> Script:
    """Settings and commands of shell text; ShellError (one line) past the nesting limit."""
    place = _Placer.of(text, line, column, indent)
    settings: list[Setting] = []
    found: list[Command] = []
    for simple in _simple_commands(text, None, 0):
        settings.extend(_settings(simple, place))
        command = _command(simple, place)
        if command is not None:
            found.append(command)
    return Script(tuple(settings), tuple(found))


def commands(text: str, line: int = 1, column: int = 1, indent: int = 1) -> list[Command]:
    """The commands of shell text (see `read`)."""
    return list(read(text, line, column, indent).commands)


def expand_argv(words: Sequence[Word], hint: str = "") -> list[Command]:
    """An argv already split into words: the command, plus the commands of the script
    it hands to a shell (`["sh", "-c", "cockroach start --insecure"]`), placed from
    the script word's own place (its first line and column)."""
    found = [Command(tuple(words), hint)]
    index = _script_index([w.text for w in words])
    if index is not None:
        script = words[index]
        inner = read(script.text, script.line, script.column, 1)
        found.extend(Command(c.words, hint, c.stdin, c.piped) for c in inner.commands)
    return found
