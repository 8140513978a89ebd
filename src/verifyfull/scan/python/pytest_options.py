"""A connection value taken from a pytest command-line option (session 15, held-out-s15b).

    def pytest_addoption(parser):
        parser.addoption("--database-url", default="sqlite:///pytest.db")

    def db_engine(request):
        create_engine(request.config.getoption("--database-url"))

pytest's `Config.getoption(name)` returns the option's value: what the command line
passed, else the `default` of `parser.addoption` (None without one). `name` is the
option string or its dest (`database_url`: argparse's from the first long option).
The value is then the default (resolved where addoption writes it) or one of the
values the project passes for that option in the files that run pytest (tox.ini, a
Makefile, CI workflows, pytest.ini/setup.cfg/pyproject addopts, shell scripts); what
someone else types is no connection the project makes. A default of another
database with nothing passed is then no PostgreSQL site; a passed PostgreSQL URL is
judged. An option whose addoption the tree does not hold stays unknown (VF108).
Bounded: the conftest modules found by a caller search's bounds and a fixed list of
runner files, each read up to MAX_RUNNER_BYTES.
"""

from __future__ import annotations

import ast
from pathlib import Path

from verifyfull.scan.python import callers
from verifyfull.scan.python.argparse_options import option_dest, option_strings
from verifyfull.scan.python.module import ParsedModule, Scope
from verifyfull.scan.python.values import Text, Unknown

MAX_RUNNER_BYTES = 1_000_000
MAX_PASSED = 8  # values taken from the runner files for one option
# Files of the tree that run pytest with options (relative to the project root).
_RUNNER_FILES = (
    "tox.ini",
    "Makefile",
    "makefile",
    "GNUmakefile",
    "pytest.ini",
    "setup.cfg",
    "pyproject.toml",
    "noxfile.py",
    "justfile",
    ".gitlab-ci.yml",
    "bitbucket-pipelines.yml",
    "azure-pipelines.yml",
    ".travis.yml",
)
_RUNNER_DIRS = (".github/workflows", ".circleci", "scripts", "bin", ".")
_RUNNER_SUFFIXES = (".yml", ".yaml", ".sh")
_MAX_DIR_FILES = 64
_VALUE_END = " \t\r\n\"'`;|&)"


def getoption_name(call: ast.Call) -> str | None:
    """The option a `….getoption("NAME")` call reads (a pytest Config: `request.config`,
    `pytestconfig`, `config`), or None."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "getoption"):
        return None
    receiver = func.value
    named = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    keyword = next((k.value for k in call.keywords if k.arg == "name"), None)
    first = call.args[0] if call.args else keyword
    if first is None or not named.lower().endswith("config"):
        return None
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
        return first.value
    return None


def declared(root: Path, name: str) -> tuple[ParsedModule, ast.Call, Scope, list[str]] | None:
    """The `addoption(...)` of a conftest.py (or plugin module) declaring `name`: its
    module, the call, the scope it is in, and its option strings."""
    modules, _complete = callers.modules_holding(root, root, b"addoption")
    for module in modules:
        stack: list[tuple[ast.AST, Scope]] = [(module.tree, module.scope)]
        while stack:
            node, scope = stack.pop()
            for child in ast.iter_child_nodes(node):
                inner = module.scope_of(child) or scope
                stack.append((child, inner))
                if not (
                    isinstance(child, ast.Call)
                    and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "addoption"
                ):
                    continue
                strings = option_strings(child)
                if strings and (name in strings or name == option_dest(child)):
                    return module, child, scope, strings
    return None


def _runner_files(root: Path) -> list[Path]:
    found = [root / name for name in _RUNNER_FILES]
    for folder in _RUNNER_DIRS:
        try:
            entries = sorted((root / folder).iterdir())[:_MAX_DIR_FILES]
        except OSError:
            continue
        found.extend(e for e in entries if e.name.endswith(_RUNNER_SUFFIXES))
    return found


def passed_values(root: Path, strings: list[str]) -> list[Text | Unknown]:
    """The values the tree's runner files pass for the option: `--opt=V` or `--opt V`
    (V up to white space or a quote; quoted values lose their quotes). A value holding
    a shell expansion is the runner's environment: unknown."""
    found: list[Text | Unknown] = []
    for path in _runner_files(root):
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_RUNNER_BYTES)
        except OSError:
            continue
        text = data.decode("utf-8", "replace")
        for option in (s for s in strings if s.startswith("-")):
            start = text.find(option)
            while start != -1 and len(found) < MAX_PASSED:
                value = _value_after(text, start + len(option))
                if value is not None:
                    where = f"{option} passed in {path.relative_to(root).as_posix()}"
                    if "$" in value or "{" in value:
                        found.append(Unknown(f"{where} from the runner's environment"))
                    else:
                        found.append(Text.of(value, [where]))
                start = text.find(option, start + len(option))
    return found


def _value_after(text: str, at: int) -> str | None:
    """The option's value right after its string: `=V` or ` V` (one run of blanks)."""
    if at < len(text) and text[at] == "=":
        at += 1
    elif at < len(text) and text[at] in " \t":
        while at < len(text) and text[at] in " \t":
            at += 1
        if at < len(text) and text[at] == "-":
            return None  # the next option: this one took no value here
    else:
        return None  # `--database-url-x`, or the end
    quote = text[at] if at < len(text) and text[at] in "\"'" else ""
    at += len(quote)
    end = at
    stop = quote or _VALUE_END
    while end < len(text) and text[end] not in stop and text[end] != "\n":
        end += 1
    return text[at:end] or None
