"""A connection value read from an argparse option (held-out-s21 whereisthisplace).

    parser.add_argument("--database-url", default="postgresql://app:pw@db/app")
    args = parser.parse_args()
    asyncpg.create_pool(args.database_url)

argparse's `parse_args()` returns a namespace whose attribute `dest` is what the
command line passed, else the option's `default` (None without one). The default is a
value the code writes, judged where it is written, as an environment reader's default
is; an option with no default (or `required=True`) is the command line's: unknown.
The option is found in the same module: an `add_argument(...)` call on the parser
`parse_args` was called on (by name), whose dest (argparse's: `dest=`, else the first
long option without its dashes, inner dashes made underscores) is the attribute read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from verifyfull.scan.python.module import ParsedModule

MAX_OPTIONS = 256  # add_argument calls looked at in one module


def parser_of(value: ast.expr) -> str | None:
    """The parser's name when `value` is `<name>.parse_args(...)` or
    `<name>.parse_known_args(...)[0]`, else None."""
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Call):
        value = value.value
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
        return None
    if value.func.attr not in ("parse_args", "parse_known_args"):
        return None
    receiver = value.func.value
    return receiver.id if isinstance(receiver, ast.Name) else None


def option(module: ParsedModule, parser: str, dest: str) -> ast.Call | None:
    """The `parser.add_argument(...)` (or an argument group's of that parser) whose dest
    is `dest`, in the module; None when there is none."""
    for count, call in enumerate(_add_argument_calls(module, parser)):
        if count >= MAX_OPTIONS:
            return None
        if option_strings(call) and option_dest(call) == dest:
            return call
    return None


def option_strings(call: ast.Call) -> list[str]:
    """The option strings an `add_argument(...)` / pytest `addoption(...)` call names."""
    return [
        a.value
        for a in call.args
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value
    ]


def option_dest(call: ast.Call) -> str:
    """argparse's dest of an option call with option strings: the `dest=` keyword, else
    the first long option (then the first) with its leading dashes dropped and inner
    dashes made underscores."""
    given = next((k.value for k in call.keywords if k.arg == "dest"), None)
    if isinstance(given, ast.Constant) and isinstance(given.value, str):
        return given.value
    strings = option_strings(call)
    long = next((s for s in strings if s.startswith("--")), strings[0])
    return long.lstrip("-").replace("-", "_")


def default_of(call: ast.Call) -> ast.expr | None:
    """The option's `default=` expression; None when it has none or is required."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    required = keywords.get("required")
    if isinstance(required, ast.Constant) and required.value is True:
        return None
    default = keywords.get("default")
    if isinstance(default, ast.Constant) and default.value is None:
        return None
    return default


def _add_argument_calls(module: ParsedModule, parser: str) -> Iterator[ast.Call]:
    groups = {parser}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("add_argument_group", "add_mutually_exclusive_group")
                and isinstance(func.value, ast.Name)
                and func.value.id in groups
            ):
                groups.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in groups
        ):
            yield node
