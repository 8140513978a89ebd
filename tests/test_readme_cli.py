"""README's command-line section names every command and every option that exists.

The command tree is read from the CLI itself (typer's click command, lazy
sub-commands included), so a new option that README does not mention fails
here instead of staying undiscoverable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from verifyfull.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _command_line_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Command line\n(?P<body>.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Command line' section"
    return match.group("body")


def _leaf_commands() -> dict[str, list[str]]:
    """'certs create-ca' -> its long options, for every command the CLI has."""
    root = typer.main.get_command(app)
    context_type = type(typer.main.get_command(app).make_context("verifyfull", ["rules"]))
    found: dict[str, list[str]] = {}

    def walk(command: Any, path: list[str], ctx: Any) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                walk(sub, [*path, name], context_type(sub, parent=ctx))
            return
        found[" ".join(path)] = [
            opt
            for param in command.params
            if getattr(param, "param_type_name", "") == "option"
            for opt in param.opts
            if opt.startswith("--") and opt != "--help"
        ]

    walk(root, [], context_type(root))
    return found


def test_the_cli_tree_is_read() -> None:
    commands = _leaf_commands()
    assert {"scan", "probe", "fix", "explain", "rules", "certs check", "lab start"} <= set(commands)
    assert "--fail-on" in commands["scan"]


def test_readme_names_every_command_and_option() -> None:
    section = _command_line_section()
    missing = []
    for command, options in _leaf_commands().items():
        usage = re.search(
            rf"^verifyfull {re.escape(command)}(?=[ \n])(?P<rest>.*(?:\n {{2,}}.*)*)", section, re.M
        )
        if usage is None:
            missing.append(f"verifyfull {command}")
            continue
        missing.extend(
            f"verifyfull {command} {option}"
            for option in options
            if not re.search(rf"{re.escape(option)}\b", usage.group(0))
        )
    assert not missing, "README's command-line section does not mention: " + ", ".join(missing)


def _option_names() -> dict[str, list[list[str]]]:
    """'probe' -> the name lists of its options (['--format', '-f'], ...)."""
    root = typer.main.get_command(app)
    context_type = type(root.make_context("verifyfull", ["rules"]))
    found: dict[str, list[list[str]]] = {}

    def walk(command: Any, path: list[str], ctx: Any) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(
                    command.get_command(ctx, name), [*path, name], context_type(command, parent=ctx)
                )
            return
        found[" ".join(path)] = [
            list(p.opts) for p in command.params if getattr(p, "param_type_name", "") == "option"
        ]

    walk(root, [], context_type(root))
    return found


def test_the_same_short_flags_everywhere() -> None:
    # -f/--format and -o/--output mean the same in every command that has them.
    wrong = []
    for command, options in _option_names().items():
        for names in options:
            for long, short in (("--format", "-f"), ("--output", "-o")):
                if long in names and short not in names:
                    wrong.append(f"{command} {long} lacks {short}")
            if "-f" in names and "--format" not in names:
                wrong.append(f"{command}: -f is not --format")
    assert not wrong, "; ".join(wrong)
