"""Vagrantfiles: the scripts their shell provisioners run in the guest, read by the one
shell reader (scan/shell) at the Vagrantfile's own lines.

    config.vm.provision "shell", inline: <<-SHELL
      echo "host all postgres 0.0.0.0/0 trust" | sudo tee /var/lib/pgsql/data/pg_hba.conf
    SHELL
    config.vm.provision :shell, :inline => "psql -h db.internal app"
    config.vm.provision "shell" do |s|
      s.inline = $script                     # $script = <<~SCRIPT ... SCRIPT above
    end
    config.vm.provision "shell", path: "provision/db"   # relative to the Vagrantfile

Vagrant reads `Vagrantfile` (or `vagrantfile`) in the project directory; a copy under
another name (`Vagrantfile.orig`, `Vagrantfile.bak`) is read by nothing and not here.
The Ruby is not evaluated: a bounded line reader finds heredocs (`<<ID`, `<<-ID`,
`<<~ID`, quoted ids), single-line string literals and the names they are assigned to,
and the values of the shell provisioner's `inline` (a heredoc, a string, or a name
assigned one earlier) and `path` (a literal relative path: the file is judged in its
own place by shell/sourced.py's reader when no other check reads it). Ruby's `#{…}`
interpolation becomes a `${…}` reference of the same width (a value known when Vagrant
runs); a `<<~` heredoc's common indentation is removed as Ruby removes it, its column
kept. Not read: a provisioner's `env:` hash, `args:`, scripts built by Ruby code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from verifyfull.findings import Finding
from verifyfull.scan import shell
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_all
from verifyfull.scan.config.model import Command, Setting
from verifyfull.scan.shell.sourced import named_shell_findings, sourced_findings

MAX_SCRIPTS = 200
# How far before a string the option or name it is given to is looked for (a line of
# many strings is then linear).
_REACH = 80
# `<<ID`, `<<-ID`, `<<~ID`, `<<'ID'`, `<<"ID"` (one per line is what Vagrantfiles write).
_HEREDOC = re.compile(r"<<(?P<flag>[-~]?)(?P<quote>['\"]?)(?P<id>[A-Za-z_]\w*)(?P=quote)")
# What a string or heredoc on a line is given to: the provisioner's option, or a name.
# One search per string (a line of many strings costs one pass over each string's reach).
_GIVEN_TO = re.compile(
    r"(?:(?P<inline>\binline\s*:|:inline\s*=>|\.inline\s*=)|(?P<path>\bpath\s*:|:path\s*=>"
    r"|\.path\s*=)|(?:^|[;\s])(?P<name>\$?[A-Za-z_]\w*)\s*=)\s*$"
)
# A string literal, double- or single-quoted, on one line.
_STRING = re.compile(r"\"(?P<double>(?:[^\"\\\n]|\\.)*)\"|'(?P<single>(?:[^'\\\n]|\\.)*)'")
# `inline: $script`, `s.inline = script`: a name assigned a script earlier.
_INLINE_NAME = re.compile(
    r"(?:\binline\s*:|:inline\s*=>|\.inline\s*=)\s*(?P<name>\$?[A-Za-z_]\w*)\s*(?:[,)#]|$)"
)
_INTERPOLATION = re.compile(r"#\{[^{}\n]*\}")
_DOUBLE_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Script:
    """Shell text a provisioner runs and where its first character is written."""

    text: str
    line: int
    column: int
    indent: int  # the column of every later line's first character


def _stand_ins(text: str) -> str:
    """Ruby's `#{expr}` as a shell reference of the same width (`${____}`)."""
    return _INTERPOLATION.sub(lambda m: "${" + "_" * (len(m.group(0)) - 3) + "}", text)


def _double(text: str) -> str:
    """A double-quoted Ruby string's value: `\\"`, `\\\\` unescaped; `\\n` a line break
    in the script, written as `; ` (same width, a command separator to the shell)."""
    return _DOUBLE_ESCAPE.sub(lambda m: "; " if m.group(1) == "n" else m.group(1), text)


def _heredoc(lines: list[str], start: int, flag: str, ident: str) -> tuple[Script, int] | None:
    """The body of a heredoc opened on line index start-1 (0-based start is the body's
    first line), and the index after its terminator; None when it never ends."""
    end = start
    while end < len(lines):
        line = lines[end]
        if (line.strip() if flag else line.rstrip()) == ident:
            break
        end += 1
    else:
        return None
    body = lines[start:end]
    indent = 0
    if flag == "~":  # Ruby removes the least indentation of the non-blank lines
        widths = [len(b) - len(b.lstrip(" \t")) for b in body if b.strip()]
        indent = min(widths, default=0)
        body = [b[indent:] for b in body]
    return Script("\n".join(body), start + 1, indent + 1, indent + 1), end + 1


def scripts(text: str) -> tuple[list[Script], list[str]]:
    """The inline scripts of a Vagrantfile's shell provisioners, and the `path:`
    scripts they name (as written)."""
    lines = text.split("\n")
    named: dict[str, Script] = {}
    inline: list[Script] = []
    paths: list[str] = []
    index = 0
    while index < len(lines) and len(inline) < MAX_SCRIPTS:
        line = lines[index]
        code = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        index += 1
        if not code.strip():
            continue
        opener = _HEREDOC.search(code)
        if opener is not None:
            found = _heredoc(lines, index, opener.group("flag"), opener.group("id"))
            if found is None:
                break  # Ruby refuses the file; and scanning to the end again for every
                # unclosed opener would be quadratic
            body, index = found
            if opener.group("quote") != "'":
                body = Script(_stand_ins(body.text), body.line, body.column, body.indent)
            given = _GIVEN_TO.search(code[max(0, opener.start() - _REACH) : opener.start()])
            _given(given, body, named, inline)
            continue
        for match in _STRING.finditer(code):
            if len(inline) >= MAX_SCRIPTS:
                break
            before = code[max(0, match.start() - _REACH) : match.start()]
            if match.group("double") is not None:
                value, at = _stand_ins(_double(match.group("double"))), match.start("double")
            else:
                value, at = match.group("single").replace("\\'", "'"), match.start("single")
            # every form ends in `:`, `=>` or `=`: the regex runs only on such a reach
            given = _GIVEN_TO.search(before) if before.rstrip()[-1:] in (":", ">", "=") else None
            if given is not None and given.group("path"):
                paths.append(value)
            else:
                _given(given, Script(value, index, at + 1, at + 1), named, inline)
        reference = _INLINE_NAME.search(code)
        if reference is not None and reference.group("name") in named:
            inline.append(named[reference.group("name")])
    return inline, paths


def _given(
    given: re.Match[str] | None, script: Script, named: dict[str, Script], inline: list[Script]
) -> None:
    """Record a string or heredoc as a provisioner's inline script (only the shell
    provisioner has `inline`), or as the value of the name it is assigned to."""
    if given is None:
        return
    if given.group("inline"):
        inline.append(script)
    elif given.group("name"):
        named[given.group("name")] = script


def _read(scripts_: Iterable[Script]) -> tuple[list[Setting], list[Command]]:
    settings: list[Setting] = []
    commands: list[Command] = []
    for script in scripts_:
        try:
            read = shell.read(script.text, script.line, script.column, script.indent)
        except shell.ShellError:
            continue  # nested past the reader's limit: nothing from this script
        settings.extend(read.settings)
        commands.extend(read.commands)
    return settings, commands


@file_check(names=("Vagrantfile", "vagrantfile"))
def check_vagrantfile(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if "provision" not in src.text:
        return []
    inline, paths = scripts(src.text)
    found: list[Finding] = []
    if inline and any(shell.worth_reading(s.text) for s in inline):
        settings, commands = _read(inline)
        found.extend(judge_all(src, settings, commands, ctx.policy))
        found.extend(sourced_findings(src, commands, ctx))
    for written in paths[:MAX_SCRIPTS]:
        found.extend(named_shell_findings(src, written, ctx))
    return found
