"""docker compose shapes (also used for Kubernetes and CI files): commands and
`environment:` lists of KEY=VALUE strings."""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.config.words import command_words
from verifyfull.scan.config.yamlnodes import effective_items, scalar, scalar_column

# compose: entrypoint + command; Kubernetes: command + args (same order of words).
_ARGV_KEYS = ("entrypoint", "command", "args")
# CI steps (GitHub Actions `run:`, GitLab `script:`): one command per line.
_SCRIPT_KEYS = ("run", "script")
COMMAND_KEYS = frozenset(_ARGV_KEYS + _SCRIPT_KEYS)


def _node_words(src: SourceFile, node: object) -> list[Word]:
    if isinstance(node, ScalarNode):
        return command_words(src, str(node.value), node.start_mark.line + 1, scalar_column(node))
    if isinstance(node, SequenceNode):
        return [
            Word(str(item.value), item.start_mark.line + 1, scalar_column(item))
            for item in node.value
            if isinstance(item, ScalarNode)
        ]
    return []


def expand_argv(words: list[Word], hint: str) -> list[Command]:
    """The service's command, and (seam) the commands of a script it hands to a shell.

    `command: sh -c "cockroach start --insecure"` runs the script word as shell
    text; the shell reader of issue 13 class 1 (verifyfull.scan.shell.expand_argv,
    built on its own branch) re-reads it. Until it is merged, only the argv itself
    is judged; at the merge this function becomes a call to shell.expand_argv.
    """
    return [Command(tuple(words), hint)]


def commands_of(src: SourceFile, node: MappingNode, image: str = "") -> list[Command]:
    """The command lines a service, container or CI step of this mapping runs.

    `image` is the program hint when the mapping names none (a compose service whose
    image comes from the base file, `extends:` or a merge key)."""
    items = dict(effective_items(node))
    hint = scalar(items.get("image")) or image
    commands: list[Command] = []
    words: list[Word] = []
    for key in _ARGV_KEYS:
        if key in items:
            words.extend(_node_words(src, items[key]))
    if words:
        commands.extend(expand_argv(words, hint))
    for key in _SCRIPT_KEYS:
        script = items.get(key)
        scripts = script.value if isinstance(script, SequenceNode) else [script]
        for entry in scripts:
            if isinstance(entry, ScalarNode):
                first = entry.start_mark.line + 1
                first += 1 if entry.style in ("|", ">") else 0
                for offset, text in enumerate(str(entry.value).splitlines()):
                    column = scalar_column(entry) if offset == 0 and not entry.style else 1
                    line_words = command_words(src, text, first + offset, column)
                    if line_words:
                        commands.append(Command(tuple(line_words), hint))
    return commands


def environment_item(node: ScalarNode, context: tuple[str, ...]) -> Setting | None:
    """`- KEY=VALUE` in a compose `environment:` list."""
    text = str(node.value)
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        return None
    column = scalar_column(node) + len(key) + 1
    return Setting(key.strip(), value, node.start_mark.line + 1, column, context)
