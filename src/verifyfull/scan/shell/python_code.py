"""Python run from shell (session 15): `python - <<EOF … EOF`, `python3 <<'PY' … PY`,
`python -c "…"`, `python3 <<< "…"`, wherever shell is written (a script, a Docker
entrypoint, a Makefile recipe, a CI `run:` block, a Dockerfile `RUN`, a compose
`command:`), judged by the Python checks and reported at the script's own lines.

    postgres_ready() {
    python << END
    import psycopg
    psycopg.connect("host=${POSTGRES_SERVER} port=${POSTGRES_PORT} dbname=${POSTGRES_DB}")
    END
    }

The program is the interpreter's stdin (no script named, or `-`) or its `-c` argument.
The shell expands an unquoted here-document, a `-c` word and a here-string before
Python reads them: `${POSTGRES_SERVER}` there is the environment's value, so it is
handed to the Python checks as `os.environ["POSTGRES_SERVER"]` (`${X:-default}` as
`os.environ.get("X", "default")`; a command substitution as an unknown variable): inside
a string literal as an f-string hole, elsewhere as the expression. A quoted delimiter
(`<<'PY'`) leaves the text as written. Quotes are already removed from a `-c` word, so
every `$NAME` in it counts as expanded (a single-quoted `$` is taken for the
environment's too: it names an unknown value either way).

The program is padded with blank lines so its line numbers are the file's; columns are
shifted by where it starts. A program that does not parse (a template, Python 2) is not
judged, and is no error of the script's: the shell commands around it are. Bounds: at
most MAX_PROGRAMS programs a file, each at most MAX_PROGRAM_CHARS characters; the
rewrite is one pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from verifyfull.findings import Finding
from verifyfull.scan.api import CheckIncomplete, CheckSkipped, ScanContext, SourceFile
from verifyfull.scan.config.model import Command, Word
from verifyfull.scan.shell.argv import program, run_program_at

MAX_PROGRAMS = 16
MAX_PROGRAM_CHARS = 256_000
# Interpreters: python, python3, python3.12, pypy3 (a Windows `python.exe` too).
_INTERPRETER = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)?)?(?:\.exe)?")
# Tools that run the next words as a command in the project's environment.
_RUNNERS = frozenset({"poetry", "uv", "pipenv", "pdm", "rye", "hatch"})
# Interpreter options that take a value (`-W ignore`, `-X dev`), and one that names a
# module to run instead of a program.
_VALUED = frozenset("WX")
_ENV = "_verifyfull_shell_env"
_IMPORT = f"\nimport os as {_ENV}\n"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAFE_DEFAULT = re.compile(r"[A-Za-z0-9_./:@%+=,-]*")


def may_run_python(text: str) -> bool:
    """Whether shell text may run a Python program (cheap, a superset)."""
    return "python" in text or "pypy" in text


@dataclass(frozen=True)
class Program:
    """Python code a command runs: its text as the shell hands it over, where it starts
    in the file, and whether the shell expands `$…` in it first."""

    text: str
    line: int
    column: int
    expands: bool
    heredoc: bool


def programs(commands: Iterable[Command]) -> list[Program]:
    """The Python programs the commands run, in order (at most MAX_PROGRAMS)."""
    found: list[Program] = []
    for command in commands:
        code = _program(command)
        if code is not None and len(code.text) <= MAX_PROGRAM_CHARS:
            found.append(code)
            if len(found) >= MAX_PROGRAMS:
                break
    return found


def _interpreter_at(texts: Sequence[str]) -> int | None:
    at = run_program_at(texts)
    if at is None:
        return None
    if program(texts[at]) in _RUNNERS and at + 2 < len(texts) and texts[at + 1] == "run":
        at += 2  # poetry run python -c …
    return at if _INTERPRETER.fullmatch(program(texts[at])) else None


def _program(command: Command) -> Program | None:
    words = command.words
    at = _interpreter_at([w.text for w in words])
    if at is None:
        return None
    index = at + 1
    while index < len(words):
        word = words[index].text
        if word == "-":
            break  # the program is stdin
        if word == "--" or not word.startswith("-") or word.startswith("--"):
            if word.startswith("--") and word != "--":
                index += 1  # --version, --help: long options take no program
                continue
            return None  # a script file (its stdin is data), or `--` before one
        flags = word[1:]
        for position, flag in enumerate(flags):
            if flag == "m":
                return None  # a module, not a program
            if flag == "c":
                rest = flags[position + 1 :]
                if rest:
                    source = words[index]
                    return Program(rest, source.line, source.column + position + 2, True, False)
                if index + 1 < len(words):
                    return _word_program(words[index + 1])
                return None
            if flag in _VALUED:
                if position + 1 == len(flags):
                    index += 1  # the value is the next word
                break
        index += 1
    stdin = command.stdin[:1]
    if not stdin:
        return None
    body = stdin[0]
    if body.expands is None:  # a here-string: a word, quotes removed
        return _word_program(body)
    return Program(body.text, body.line, body.column, body.expands, True)


def _word_program(word: Word) -> Program:
    return Program(word.text, word.line, word.column, True, False)


@dataclass(frozen=True)
class _Mark:
    original: str
    name: str  # the variable, or "" for a command substitution or a special parameter
    default: str | None


def _closers(text: str) -> dict[int, int]:
    """For each `(` and `{` the offset of its matching closer on the same line (one pass
    with a stack per bracket: an expansion never looks further than its line)."""
    matched: dict[int, int] = {}
    stacks: dict[str, list[int]] = {"(": [], "{": []}
    for index, char in enumerate(text):
        if char in "({":
            stacks[char].append(index)
        elif char in ")}":
            stack = stacks["(" if char == ")" else "{"]
            if stack:
                matched[stack.pop()] = index
        elif char == "\n":
            stacks["("].clear()
            stacks["{"].clear()
    return matched


def _expansion_end(text: str, start: int, closers: dict[int, int]) -> int:
    """The end of the expansion at text[start] == '$' or '`' (start + 1: none)."""
    if text[start] == "`":
        end = text.find("`", start + 1)
        return start + 1 if end < 0 else end + 1
    if start + 1 >= len(text):
        return start + 1
    nxt = text[start + 1]
    if nxt in "{(":
        close = closers.get(start + 1)
        return start + 1 if close is None else close + 1
    name = _NAME.match(text, start + 1)
    if name is not None:
        return name.end()
    return start + 2 if nxt in "0123456789@*#?$!-" else start + 1


def _mark(original: str) -> _Mark:
    if original.startswith("${"):
        inner = original[2:-1]
        name = _NAME.match(inner)
        if name is None:
            return _Mark(original, "", None)
        rest = inner[name.end() :]
        default = None
        for operator in (":-", "-"):
            if rest.startswith(operator):
                candidate = rest[len(operator) :]
                default = candidate if _SAFE_DEFAULT.fullmatch(candidate) else None
                break
        return _Mark(original, name.group(), default)
    if original.startswith("$(") and _NAME.fullmatch(original[2:-1]):
        # `$(DB_HOST)`: a Makefile recipe's make variable (a command so named is rare)
        return _Mark(original, original[2:-1], None)
    name = _NAME.fullmatch(original[1:]) if original.startswith("$") else None
    return _Mark(original, name.group() if name else "", None)


def _expression(mark: _Mark, quote: str) -> str:
    key = mark.name or "shell expansion"
    if mark.default is not None:
        return f"{_ENV}.environ.get({quote}{key}{quote}, {quote}{mark.default}{quote})"
    return f"{_ENV}.environ[{quote}{key}{quote}]"


def _marked(text: str, heredoc: bool) -> tuple[str, list[_Mark]]:
    """The text with each shell expansion replaced by a marker word (the same in code
    and in a string), and the expansions in order. A here-document's `\\$`, `\\``
    and `\\\\` are the shell's escapes (its `\\<newline>` is kept: Python reads it as the
    same continuation)."""
    out: list[str] = []
    marks: list[_Mark] = []
    index, size, plain = 0, len(text), 0
    closers = _closers(text) if "$" in text else {}
    quotes = "$`" if "`" in text else "$"
    while index < size:
        char = text[index]
        if heredoc and char == "\\" and index + 1 < size and text[index + 1] in "$`\\":
            out.append(text[plain:index])
            out.append(text[index + 1])
            index += 2
            plain = index
            continue
        if char in quotes:
            end = _expansion_end(text, index, closers)
            if end == index + 1 and char == "`":
                quotes = "$"  # no closing backquote after this one: none after it either
            if end > index + 1:
                out.append(text[plain:index])
                out.append(_marker(len(marks)))
                marks.append(_mark(text[index:end]))
                index = plain = end
                continue
        index += 1
    out.append(text[plain:])
    return "".join(out), marks


def _marker(number: int) -> str:
    return f"__verifyfull_shell_{number}__"


_MARKER = re.compile(r"__verifyfull_shell_(\d+)__")
_PREFIX = re.compile(r"[A-Za-z]{0,2}$")
# A string literal that is one expansion and nothing else.
_WHOLE = re.compile(r"(['\"])__verifyfull_shell_(\d+)__\1")


def python_text(code: Program) -> str:
    """The program as Python reads it, expansions turned into environment reads."""
    if not code.expands:
        return code.text
    from verifyfull.scan.python.lexical import split_strings

    marked, marks = _marked(code.text, code.heredoc)
    if not marks:
        return marked
    pieces = split_strings(marked)
    if pieces is None:  # not lexable as Python: it will not parse either way
        return marked
    codes, tokens = pieces
    out: list[str] = []
    for index, piece in enumerate(codes):
        token = tokens[index] if index < len(tokens) else None
        if token is not None and token.startswith(("'", '"')) and _MARKER.search(token):
            prefix = _PREFIX.search(piece)
            letters = prefix.group().lower() if prefix else ""
            whole = _WHOLE.fullmatch(token)
            if "b" in letters:  # bytes: no f-string, the text as the shell leaves it
                token = _MARKER.sub(lambda m: marks[int(m.group(1))].original, token)
            elif whole is not None and "f" not in letters:
                # `port="${POSTGRES_PORT}"`: the variable's value itself, not a string
                # with a hole (whose stand-in would be no port number)
                piece = piece[: len(piece) - len(letters)]
                token = _expression(marks[int(whole.group(2))], "'")
            else:
                other = "'" if token[0] == '"' else '"'
                if "f" not in letters:
                    piece = piece[: len(piece) - len(letters)] + letters.replace("u", "") + "f"
                    token = token.replace("{", "{{").replace("}", "}}")
                token = _MARKER.sub(partial(_hole, marks, quote=other), token)
        elif token is not None:  # a comment: as written
            token = _MARKER.sub(lambda m: marks[int(m.group(1))].original, token)
        out.append(_MARKER.sub(lambda m: _expression(marks[int(m.group(1))], "'"), piece))
        if token is not None:
            out.append(token)
    return "".join(out) + _IMPORT


def _hole(marks: list[_Mark], match: re.Match[str], *, quote: str) -> str:
    """The f-string hole for a marker inside a string literal quoted with the other quote."""
    return "{" + _expression(marks[int(match.group(1))], quote) + "}"


def findings(src: SourceFile, commands: Iterable[Command], ctx: ScanContext) -> list[Finding]:
    """The Python checks' findings for every program src's commands run, at src's lines."""
    from verifyfull.scan.python.check import analyse

    found: list[Finding] = []
    for code in programs(commands):
        text = "\n" * (code.line - 1) + python_text(code)
        source = SourceFile(src.path, src.relpath, text)
        try:
            judged: Iterable[Finding] = analyse(source, ctx, tolerate=False)
        except CheckIncomplete as partial:
            judged = partial.findings
        except (CheckSkipped, RecursionError):
            continue  # not Python this scanner reads: the script's own commands stand
        found.extend(_placed(src, code, item) for item in judged)
    return found


def _placed(src: SourceFile, code: Program, item: Finding) -> Finding:
    """A finding of the program at the script's own column, its evidence the script's
    line where it quotes the rewritten text (the environment reads put in for `${X}`)."""
    if item.path != src.relpath:
        return item  # placed where a module the program imports writes the value
    if item.column and (code.heredoc or item.line == code.line):
        item = replace(item, column=item.column + code.column - 1)
    if _ENV in (item.evidence or ""):
        item = replace(item, evidence=src.line_text(item.line or 0).strip())
    return item
