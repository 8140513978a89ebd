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
from typer.testing import CliRunner

from verifyfull.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _command_line_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Command line\n(?P<body>.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Command line' section"
    return match.group("body")


def _leaves() -> dict[str, Any]:
    """'certs create-ca' -> its click command, for every command the CLI has."""
    root = typer.main.get_command(app)
    context_type = type(root.make_context("verifyfull", ["rules"]))
    found: dict[str, Any] = {}

    def walk(command: Any, path: list[str], ctx: Any) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                walk(sub, [*path, name], context_type(sub, parent=ctx))
            return
        found[" ".join(path)] = command

    walk(root, [], context_type(root))
    return found


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option"]


def _leaf_commands() -> dict[str, list[str]]:
    """'certs create-ca' -> its long options."""
    return {
        path: [o for p in _options(c) for o in p.opts if o.startswith("--") and o != "--help"]
        for path, c in _leaves().items()
    }


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
    return {path: [list(p.opts) for p in _options(c)] for path, c in _leaves().items()}


_SHORT_FLAGS = (("--format", "-f"), ("--output", "-o"), ("--quiet", "-q"), ("--verbose", "-v"))


def test_the_same_short_flags_everywhere() -> None:
    # -f/--format, -o/--output, -q/--quiet and -v/--verbose mean the same in every
    # command that has them, and the short letters mean nothing else anywhere.
    wrong = []
    for command, options in _option_names().items():
        for names in options:
            for long, short in _SHORT_FLAGS:
                if long in names and short not in names:
                    wrong.append(f"{command} {long} lacks {short}")
                if short in names and long not in names:
                    wrong.append(f"{command}: {short} is not {long}")
    assert not wrong, "; ".join(wrong)


def test_one_help_style_for_every_command() -> None:
    """Plain click help everywhere (no rich panels in some commands only)."""
    runner = CliRunner()
    for path in _leaves():
        result = runner.invoke(app, [*path.split(), "--help"], catch_exceptions=False)
        assert result.exit_code == 0, path
        assert result.output.startswith(f"Usage: verifyfull {path} "), path
        assert not set("╭╮╰╯│─") & set(result.output), f"{path} --help draws boxes"
        assert "\nOptions:\n" in result.output, path


# Options whose value is free text (a rule list, a glob, a name, a duration).
_FREE_TEXT = {"--select", "--ignore", "--exclude", "--extend-exclude", "--user", "--database"}
_FREE_TEXT |= {"--host", "--lifetime"}


def test_an_option_with_a_fixed_set_of_values_lists_them_in_its_help() -> None:
    unlisted = [
        f"{path} {param.opts[0]}"
        for path, command in _leaves().items()
        for param in _options(command)
        if type(param.type).__name__ == "StringParamType"
        and param.opts[0] not in _FREE_TEXT
        and not re.fullmatch(r"\[[\w.-]+(\|[\w.-]+)+\]", param.metavar or "")
    ]
    assert not unlisted, "options whose allowed values the help does not list: " + ", ".join(
        unlisted
    )
    help_text = CliRunner().invoke(app, ["scan", "--help"]).output
    assert "--fail-on [critical|high|medium|low|info]" in help_text
