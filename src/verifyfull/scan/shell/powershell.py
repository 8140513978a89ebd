"""PowerShell, the second small dialect: environment assignments and command words.

`$env:NAME = "value"` (and `[Environment]::SetEnvironmentVariable("NAME", "value")`)
set a variable the programs started afterwards read, as `export` does in sh.
Command lines are split into words with PowerShell's quoting: `'...'` literal
(`''` is a quote), `"..."` (a backtick escapes), a backtick at the end of a
line continues it, `#` starts a comment, `;` and `|` end a command. One pass
over the text, no nesting to bound.
"""

from __future__ import annotations

import re

from verifyfull.scan.config.model import Command, Setting, Word

_SET_VARIABLE = re.compile(
    r"\[(?:System\.)?Environment\]::SetEnvironmentVariable\(\s*(?P<q>[\"'])(?P<key>\w+)(?P=q)\s*,\s*"
    r"(?P<value>\"(?:[^\"`]|`.)*\"|'(?:[^']|'')*')",
    re.IGNORECASE,
)


def _unquote(value: str) -> tuple[str, int]:
    """The value without its quotes and the offset of its first character."""
    if value[:1] == "'":
        return value[1:-1].replace("''", "'"), 1
    if value[:1] == '"':
        return re.sub(r"`(.)", r"\1", value[1:-1]).replace('""', '"'), 1
    return value, 0


def _settings(text: str) -> list[Setting]:
    """`[Environment]::SetEnvironmentVariable("NAME", "value")` calls."""
    settings: list[Setting] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if "nvironmentvariable" not in line.lower():
            continue
        for match in _SET_VARIABLE.finditer(line):
            value, shift = _unquote(match.group("value"))
            settings.append(
                Setting(match.group("key"), value, number, match.start("value") + shift + 1)
            )
    return settings


def _assignment(words: list[Word]) -> Setting | None:
    """`$env:NAME = value` (or `$name = value`) as a setting: the value a later
    command reads (`$env:` is the environment; a plain variable is passed on)."""
    first = words[0].text if words else ""
    if len(words) == 1 and first.startswith("$") and "=" in first:  # `$env:X="v"`
        head = first.partition("=")[0]
        place = (words[0].line, words[0].column + len(head) + 1)
        words = [Word(head, *place), Word("=", *place), Word(first[len(head) + 1 :], *place)]
    if len(words) != 3 or words[1].text != "=" or not words[0].text.startswith("$"):
        return None
    name = re.sub(r"^\$(?:env:)?", "", words[0].text, flags=re.IGNORECASE)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return None
    value = words[2]
    return Setting(name, value.text, value.line, value.column)


def _statements(text: str) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    words: list[Word] = []
    chars: list[str] = []
    place = (1, 1)
    line, column, index, size = 1, 1, 0, len(text)

    def flush_word() -> None:
        if chars:
            words.append(Word("".join(chars), *place))
            chars.clear()

    def flush_command() -> None:
        flush_word()
        setting = _assignment(words)
        if setting is not None:
            settings.append(setting)
        elif words:
            commands.append(Command(tuple(words)))
        words.clear()

    while index < size:
        char = text[index]
        if not chars and char not in " \t\r\n;|#":
            place = (line, column + 1) if char in "'\"" else (line, column)
        if char == "`" and index + 1 < size:
            if text[index + 1] == "\n":
                flush_word()
                line, column = line + 1, 1
            else:
                chars.append(text[index + 1])
                column += 2
            index += 2
            continue
        if char in "'\"":
            end = index + 1
            while end < size:
                if text[end] == char and not text.startswith(char * 2, end):
                    break
                escaped = char == '"' and text[end] == "`"
                end += 2 if escaped or text.startswith(char * 2, end) else 1
            body = text[index + 1 : min(end, size)]
            chars.append(_unquote(char + body + char)[0])
            line += body.count("\n")
            column = column + end - index + 1 if "\n" not in body else len(body) - body.rfind("\n")
            index = end + 1
            continue
        if char == "#" and not chars:
            end = text.find("\n", index)
            index = size if end < 0 else end
            continue
        if char == "\n":
            flush_command()
            line, column = line + 1, 1
        elif char in ";|":
            flush_command()
            column += 1
        elif char in " \t\r":
            flush_word()
            column += 1
        else:
            chars.append(char)
            column += 1
        index += 1
    flush_command()
    return settings, commands


def read_powershell(text: str) -> tuple[list[Setting], list[Command]]:
    """Settings and commands of a PowerShell script."""
    settings, commands = _statements(text)
    return [*settings, *_settings(text)], commands
