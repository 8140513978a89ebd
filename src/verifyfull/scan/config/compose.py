"""docker compose shapes (also used for Kubernetes and CI files): commands and
`environment:` lists of KEY=VALUE strings."""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.config.words import command_words, where_written
from verifyfull.scan.config.yamlnodes import effective_items, scalar, scalar_column
from verifyfull.scan.shell import Script, expand_argv
from verifyfull.scan.shell.yamltext import scalar_commands, scalar_script

# compose: entrypoint + command; Kubernetes: command + args (same order of words).
_ARGV_KEYS = ("entrypoint", "command", "args")
# CI steps (GitHub Actions `run:`, GitLab `script:` / `before_script:` / `after_script:`,
# Travis CI's phases: held-out-s22 cnx-db's `before_script: - psql -c "CREATE USER ...
# PASSWORD '...'"`): shell scripts. Travis's `install:` is not read (the word is common
# elsewhere: a Helm value, an Ansible option); what it installs is no connection.
_SCRIPT_KEYS = (
    *("run", "script", "before_script", "after_script"),
    *("before_install", "after_success", "after_failure", "before_deploy", "after_deploy"),
)
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


def scripts_of(src: SourceFile, node: MappingNode, image: str = "") -> Script:
    """The command lines a service, container or CI step of this mapping runs, and the
    variables its shell text sets (`export DATABASE_URL=…`, `PGPASSWORD=… psql …` in a
    `run:` block: held-out-s23 Alexandria's CI step), judged as a script's are.

    `image` is the program hint when the mapping names none (a compose service whose
    image comes from the base file, `extends:` or a merge key)."""
    items = dict(effective_items(node))
    hint = scalar(items.get("image")) or image
    settings: list[Setting] = []
    commands: list[Command] = []
    words: list[Word] = []
    for key in _ARGV_KEYS:
        if key in items:
            words.extend(_node_words(src, items[key]))
    if words:
        # `command: sh -c "cockroach start --insecure"`: the script is read again.
        commands.extend(where_written(src, c) for c in expand_argv(words, hint))
    for key in _SCRIPT_KEYS:
        script = items.get(key)
        scripts = script.value if isinstance(script, SequenceNode) else [script]
        for entry in scripts:
            if isinstance(entry, ScalarNode):  # shell text, read by the shell reader
                script_text = scalar_script(src, entry, hint)
                settings.extend(script_text.settings)
                commands.extend(script_text.commands)
    return Script(tuple(settings), tuple(commands))


def healthcheck_commands(src: SourceFile, node: MappingNode) -> list[Command]:
    """A compose `healthcheck:`'s `test`: `["CMD", program, args...]` runs the program,
    `["CMD-SHELL", script]` and a plain string run a shell (`["NONE"]`: nothing). A
    healthcheck is a client of the service (`cockroach sql --insecure -e 'select 1'`)."""
    test = dict(effective_items(node)).get("test")
    if isinstance(test, ScalarNode):
        return scalar_commands(src, test, "")
    if not isinstance(test, SequenceNode) or not test.value:
        return []
    head, *rest = test.value
    kind = str(head.value).upper() if isinstance(head, ScalarNode) else ""
    if kind == "CMD":
        words = [
            Word(str(item.value), item.start_mark.line + 1, scalar_column(item))
            for item in rest
            if isinstance(item, ScalarNode)
        ]
        return expand_argv(words, "") if words else []
    if kind == "CMD-SHELL":
        return [
            c
            for item in rest
            if isinstance(item, ScalarNode)
            for c in scalar_commands(src, item, "")
        ]
    return []


def environment_item(node: ScalarNode, context: tuple[str, ...]) -> Setting | None:
    """`- KEY=VALUE` in a compose `environment:` list."""
    text = str(node.value)
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        return None
    column = scalar_column(node) + len(key) + 1
    return Setting(key.strip(), value, node.start_mark.line + 1, column, context)
