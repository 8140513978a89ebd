"""INI files: alembic.ini (sqlalchemy.url), setup.cfg, tox.ini / pytest.ini env lists,
systemd units (ExecStart=, Environment=) and supervisord programs (command=).

configparser, through the shared reader (scan/inireader.py), says whether the file
is valid INI (and gives the error); its line walker (`ini_lines`) then reads the same
structure with positions, which configparser does not keep.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import pgbouncer
from verifyfull.scan.config.installed import as_deployed
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, ConfigParseError, Setting, worth_parsing
from verifyfull.scan.config.words import command_words, split_command
from verifyfull.scan.inireader import IniError, ini_lines, parse_ini_text
from verifyfull.scan.python.frameworks import env_py_decides_url

_ENV_ITEM = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


def validate(text: str) -> None:
    """Raise ConfigParseError when `text` is an INI file that does not parse (the shared
    reader, scan/inireader.py: options before the first `[section]` are top-level
    options, as GDAL's osmconf.ini and git-style files write them).

    A file with no line opening a `[section]` is not INI as configparser has it but
    key/value lines of its own format (haproxy.cfg, pyvenv.cfg, a `.cfg` of any tool):
    it is read by the line walker and never reported as broken."""
    if not any(line.lstrip().startswith("[") for line in text.splitlines()):
        return
    try:
        parse_ini_text(text)
    except IniError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ConfigParseError(
            f"INI does not parse{where}: {exc.problem}",
            "fix the syntax, or exclude the file in [tool.verifyfull]",
        ) from None


def _env_items(value: str, line: int, column: int, context: tuple[str, ...]) -> Iterator[Setting]:
    match = _ENV_ITEM.match(value.strip())
    if match is not None:
        offset = len(value) - len(value.lstrip()) + match.start("value")
        yield Setting(match.group("key"), match.group("value"), line, column + offset, context)


_COMMAND_KEYS = frozenset({"command", "execstart", "execstartpre", "execstartpost", "execreload"})
_ENVIRONMENT_KEYS = frozenset({"environment"})


def _command(src: SourceFile, value: str, line: int, column: int) -> Command | None:
    # systemd prefixes (-, @, +, !) say how to run the program, not which.
    words = command_words(src, value.lstrip("-@+!:"), line, column)
    return Command(tuple(words)) if words else None


def _environment(value: str, line: int, column: int, context: tuple[str, ...]) -> list[Setting]:
    """systemd `Environment="A=1" B=2` and supervisord `environment=A="1",B="2"`."""
    settings: list[Setting] = []
    for word in split_command(value.replace(",", " ")):
        settings.extend(_env_items(word, line, column + max(value.find(word), 0), context))
    return settings


def parse_ini(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    for line in ini_lines(src.text):
        context = (line.section,) if line.section else ()
        number, column, value = line.number, line.column, line.value
        if line.kind == "continuation":
            settings.extend(_env_items(value, number, column, context))
            continue
        if line.kind != "option":
            continue
        key = line.key
        if key.lower() in _COMMAND_KEYS:
            command = _command(src, value, number, column)
            if command is not None:
                commands.append(command)
            continue
        if key.lower() in _ENVIRONMENT_KEYS:
            settings.extend(_environment(value, number, column, context))
            continue
        settings.append(Setting(key, value, number, column, context))
        settings.extend(_env_items(value, number, column, context))
    return settings, commands


@file_check(suffixes=(".ini", ".cfg", ".service"), globs=("supervisord*.conf",))
def check_ini(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    validate(src.text)
    settings, commands = parse_ini(src)
    found = judge_all(src, settings, commands, ctx.policy)
    if pgbouncer.is_pgbouncer(settings):
        # a pooler: its two TLS legs replace the generic reading of its lines
        pooler = pgbouncer.judge(src, settings)
        kept = [
            f
            for f in found
            if not (f.rule_id.startswith("VF1") and f.line in pooler.replaced_lines)
        ]
        found = as_deployed([*kept, *pooler.findings], src, ctx)
    moot = _replaced_alembic_url(src, settings)
    # Its env.py always writes sqlalchemy.url (this URL reaches no connection), or
    # makes its engine from this URL, judged once at that engine call. A password in
    # it is still committed, so only the transport findings go.
    return [f for f in found if not (f.line == moot and f.rule_id.startswith("VF1"))]


def _replaced_alembic_url(src: SourceFile, settings: list[Setting]) -> int | None:
    """The line of an alembic.ini's sqlalchemy.url when its env.py decides it."""
    for setting in settings:
        if setting.key == "sqlalchemy.url" and setting.context == ("alembic",):
            return setting.line if env_py_decides_url(src.path) else None
    return None
