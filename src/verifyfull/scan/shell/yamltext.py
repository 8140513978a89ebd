"""Where the shell text of a YAML scalar (a CI `run:`/`script:` step, a compose
`command:` string) starts in the file, for shell.read's (line, column, indent)."""

from __future__ import annotations

from yaml.nodes import ScalarNode

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command
from verifyfull.scan.shell import Script, read


def scalar_commands(src: SourceFile, node: ScalarNode, hint: str = "") -> list[Command]:
    """The commands of a scalar's shell text, placed in the file (scalar_script)."""
    return list(scalar_script(src, node, hint).commands)


def scalar_script(src: SourceFile, node: ScalarNode, hint: str = "") -> Script:
    """The settings and commands of a scalar's shell text, placed in the file.

    A literal block (`|`) keeps its lines: they start on the line after the
    indicator, each at the block's indentation. A folded or flow scalar is one
    logical line to the shell (YAML joined it), placed from where it starts.
    """
    line = int(node.start_mark.line) + 1
    if node.style == "|":
        line += 1
        first = src.line_text(line)
        indent = len(first) - len(first.lstrip(" ")) + 1
        column = indent
    elif node.style == ">":
        line += 1
        first = src.line_text(line)
        column = indent = len(first) - len(first.lstrip(" ")) + 1
    else:
        quoted = node.style in ("'", '"')
        column = int(node.start_mark.column) + 1 + (1 if quoted else 0)
        indent = 1
    script = read(str(node.value), line, column, indent)
    found = tuple(Command(c.words, hint, c.stdin, c.piped) for c in script.commands)
    return Script(script.settings, found)
