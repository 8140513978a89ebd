"""Shell run from Python: `subprocess.run/call/Popen/check_call/check_output` argv lists
and shell strings (`shell=True`), `os.system`, `os.popen`, `asyncio.create_subprocess_*`,
and the sh library's program calls (`from sh import pg_dump`; `sh.psql(...)`).

The command each call runs is handed to the one shell reader (scan/shell) and
judged by scan/config/judge.py like a command in a script: `subprocess.run("cockroach
start --insecure", shell=True)`, `subprocess.run(["psql", "-h", host, ...])` with no
sslmode, `env={"PGSSLMODE": "disable"}`. Only literal strings are read; a name or
an expression in an argv list is a word the shell reader keeps as a reference.

A check of its own (registered from check.py), not a family of the Python
analysis: it needs none of that analysis's resolution, and it runs only on files
that hold both a process-starting call and a word a command judged here can hold.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from verifyfull.findings import Finding
from verifyfull.scan import shell
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.python.module import parsed_tree
from verifyfull.scan.python.prefilter import at_word_starts

_RUNNERS = {
    "subprocess": {"run", "call", "Popen", "check_call", "check_output"}
    | {"getoutput", "getstatusoutput"},
    "os": {"system", "popen"},
    "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
}
# Functions whose string is always a shell command (the others: with shell=True).
_SHELL_STRINGS = {"system", "popen", "create_subprocess_shell", "getoutput", "getstatusoutput"}
# A command judged here names one of these (a client, cockroach, an sslmode, a DSN's
# scheme, a PG* variable): narrower than the config markers, because this check parses
# the file a second time (in a site-packages tree 3 of 186 subprocess users hold one;
# "database" or "://" would be 87).
_COMMAND_MARKERS = (
    *("psql", "pg_dump", "pg_restore", "createdb", "createuser", "vacuumdb", "pgbench"),
    *("pg_basebackup", "pgcli", "cockroach", "sslmode", "postgres", "pg_hba", "PGSSL", "PGHOST"),
)
# A module that starts a process names one of these (`subprocess.run`, `os.system`,
# `asyncio.create_subprocess_exec`, `sp.Popen` after `import subprocess as sp`, the sh
# library's `from sh import pg_dump` / `import sh`) ...
_RUNNER_WORDS = ("subprocess", "os.system", "os.popen", "create_subprocess_")
_SH_WORDS = ("from sh import", "import sh")
# The sh library (amoffat/sh): every name it gives is the program of that name, called
# with its arguments as argv (`pg_dump("-h", host, "-w", _env={...})`); its own
# keywords start with `_` (`_env` is the whole environment), others become options
# (`h="db"` -> `-h db`, `dbname="app"` -> `--dbname=app`).
_SH = "sh"
# ... or calls os's function by a bare or aliased name, which needs an import from or
# of os: `from os import system`, `import sys, os as o` (o.system). The engine's
# keyword "system(" alone passed `functions.func.system(x)` in SQLAlchemy's
# selectable.py, parsed and walked for nothing (docs/scan.md, Benchmark, session 15).
# Each is searched on its own from its literal, the word boundary checked at each match
# (prefilter.at_word_starts): one `\bfrom...|\bos...` search tried both branches at
# every offset of the file, 2 ms a file on the benchmark tree (session 16).
_OS_IMPORTS = (re.compile(r"from\s+os\s+import\b"), re.compile(r"os\s+as\s"))


def may_start_a_process(text: str) -> bool:
    """Whether the text can hold a call _called recognises (a superset)."""
    if any(word in text for word in _RUNNER_WORDS) or any(w in text for w in _SH_WORDS):
        return True
    return ("system" in text or "popen" in text) and any(
        next(at_word_starts(pattern, text), None) is not None for pattern in _OS_IMPORTS
    )


# Stands for an argv element that is not a literal (a variable, a call): a reference.
_UNKNOWN = "$VALUE"


def _runners(tree: ast.Module) -> tuple[dict[str, str], dict[str, str]]:
    """Names bound by imports: module aliases (sp -> subprocess) and functions
    (run -> run, from subprocess import run)."""
    modules = {name: name for name in _RUNNERS}
    functions: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _RUNNERS or alias.name == _SH:
                    modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in _RUNNERS:
            for alias in node.names:
                if alias.name in _RUNNERS[node.module]:
                    functions[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module == _SH and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    functions[alias.asname or alias.name] = f"{_SH}:{alias.name}"
    return modules, functions


def _called(func: ast.expr, modules: dict[str, str], functions: dict[str, str]) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = modules.get(func.value.id)
        if module == _SH:
            return f"{_SH}:{func.attr}"  # `sh.psql(...)`
        if module is not None and func.attr in _RUNNERS[module]:
            return func.attr
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    return None


def _text(node: ast.expr) -> str | None:
    """A literal string, or an f-string with its holes as references."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append("${VALUE}")
        return "".join(parts)
    return None


def _word(node: ast.expr) -> Word:
    text = _text(node)
    return Word(_UNKNOWN if text is None else text, node.lineno, node.col_offset + 1)


def _environment(call: ast.Call, argument: str = "env") -> list[Word]:
    """`env={"PGSSLMODE": "require", ...}` (sh's `_env=`) as NAME=value words before the
    command."""
    for keyword in call.keywords:
        if keyword.arg == argument and isinstance(keyword.value, ast.Dict):
            words = []
            for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                name, text = (_text(key) if key is not None else None), _text(value)
                if name and text is not None and name.isidentifier():
                    words.append(Word(f"{name}={text}", value.lineno, value.col_offset + 1))
            return words
    return []


def _shell_true(call: ast.Call) -> bool:
    return any(
        k.arg == "shell" and isinstance(k.value, ast.Constant) and bool(k.value.value)
        for k in call.keywords
    )


def _local_settings(env: list[Word]) -> list[Setting]:
    """The NAME=value words of a call's environment, as settings of that command only."""
    return [
        Setting(w.text.partition("=")[0], w.text.partition("=")[2], w.line, w.column, local=True)
        for w in env
    ]


def _sh_argv(call: ast.Call, program: str) -> list[Word] | None:
    """The argv an sh-library call runs: the program, its positional arguments, its
    keywords as options (`_`-prefixed ones are sh's own); None past a `*args`/`**kw`."""
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    # the name as written: sh tries it first (`pg_dump`), its dashed form only after
    words = [Word(program, call.lineno, call.col_offset + 1)]
    words += [_word(a) for a in call.args]
    for keyword in call.keywords:
        if keyword.arg is None:
            return None
        if keyword.arg.startswith("_"):
            continue
        value = _word(keyword.value)
        flag = keyword.arg.replace("_", "-")
        if len(flag) == 1:
            words += [Word(f"-{flag}", value.line, value.column), value]
        else:
            words.append(Word(f"--{flag}={value.text}", value.line, value.column))
    return words


def _commands(call: ast.Call, function: str, settings: list[Setting]) -> Iterator[Command]:
    if function.startswith(f"{_SH}:"):
        env = _environment(call, "_env")
        settings.extend(_local_settings(env))
        sh_words = _sh_argv(call, function.partition(":")[2])
        if sh_words is not None:
            yield Command((*env, *sh_words))
        return
    if not call.args:
        return
    first = call.args[0]
    env = _environment(call)
    settings.extend(_local_settings(env))
    text = _text(first)
    if text is not None and (function in _SHELL_STRINGS or _shell_true(call)):
        # The string is what /bin/sh -c runs; its words are placed from the string's start.
        script = shell.read(text, first.lineno, first.col_offset + 2, 1)
        settings.extend(script.settings)
        for command in script.commands:
            yield Command((*env, *command.words), stdin=command.stdin)
        return
    if function == "create_subprocess_exec":
        argv = list(call.args)
    elif isinstance(first, ast.List | ast.Tuple):
        argv = list(first.elts)
    else:
        return  # a name or an expression: what it holds is not read here
    if argv and not any(isinstance(a, ast.Starred) for a in argv):
        words = [_word(a) for a in argv]
        for command in shell.expand_argv(words):
            yield Command((*env, *command.words), stdin=command.stdin)


def subprocess_commands(tree: ast.Module) -> tuple[list[Setting], list[Command]]:
    """The settings (`env=`, exports in a shell string) and every command the module's
    process-starting calls run, as far as literals say."""
    modules, functions = _runners(tree)
    settings: list[Setting] = []
    found: list[Command] = []
    for node in ast.walk(tree):  # iterative: deep expressions cost no recursion here
        if isinstance(node, ast.Call):
            function = _called(node.func, modules, functions)
            if function is not None:
                found.extend(_commands(node, function, settings))
    return settings, found


@file_check(
    suffixes=(".py",),
    keywords=(*_RUNNER_WORDS, *_SH_WORDS, "system", "popen"),
    # Looked up in the engine's one pass over the bytes: 16 searches of the text of
    # each of a site-packages tree's 195 subprocess users were 0.2 s (session 13).
    needles=_COMMAND_MARKERS,
)
def check_subprocess_sites(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not src.holds_any(_COMMAND_MARKERS) or not may_start_a_process(src.text):
        return []
    try:  # the Python check's parse of this text, when it made one
        tree = parsed_tree(src.path, ctx.root, src.text) or parse_python(src.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the Python check reports a file that does not parse
    settings, commands = subprocess_commands(tree)
    return judge_all(src, settings, commands, ctx.policy)
