"""Configuration documents held in an environment value (held-out-s13: Kestra's
`KESTRA_CONFIGURATION: |` compose value is a YAML document whose
`datasources.postgres.password` is the database's password).

An environment value whose text is itself a mapping document, YAML or JSON (several
lines, or one `{...}`), is read by the YAML reader (yamlnodes.compose_documents, the
settings a YAML file's walk gives), so its keys are settings whose enclosing names
are the variable's name and the document's own keys; judge.py then applies the one
credential rule to them (a password name in a database context, placeholders not). Each
setting is placed on the file line and column where its text is written: a literal block
scalar's lines are the file's lines below the key, an env file's or a flow value's text
starts at the value's own column; when the text is not written so (a quoted or folded
scalar, an interpolated value), its settings are placed on the variable.

Which values are environment values: every setting of a file of variables (env files,
Dockerfile ENV, a YAML file's top level: no enclosing names), and YAML values under an
`environment:` / `env:` / `variables:` key (compose, GitHub Actions, GitLab CI) or a
Kubernetes `env:` entry's `value`.

Bounded: a value past MAX_DOCUMENT characters is not read, nor one without a password
word (the rule needs one), the reader's own limits hold (nesting, aliases: a document
that breaks them is no document), a text is parsed once however many aliases repeat it,
and at most MAX_SETTINGS password settings of one document are judged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config import k8s
from verifyfull.scan.config.model import ConfigParseError, Setting
from verifyfull.scan.config.yamlnodes import compose_documents, effective_items, scalar_setting

MAX_DOCUMENT = 64 * 1024
MAX_SETTINGS = 100
_MAX_DEPTH = 200  # as the YAML file reader's
_ENV_KEYS = frozenset({"environment", "env", "variables"})
# password_names.password_name needs one of these in a key (case-folded)
_PASSWORD_WORD = re.compile(r"pass|pwd", re.IGNORECASE)


def is_env_value(setting: Setting) -> bool:
    return not setting.context or setting.context[-1] in _ENV_KEYS


def document_settings(src: SourceFile, setting: Setting) -> list[Setting]:
    """The password-named settings of the document an environment value (is_env_value)
    holds, placed in `src` (none when the value is no such document)."""
    value = setting.value
    if not _document_like(value):
        return []
    inner = _read(value)
    if not inner:
        return []
    lines = value.split("\n")
    base = _base_line(src.text, setting, lines)
    placed = []
    for item in inner:
        where = _placed(src.text, base, setting, lines, item) if base is not None else None
        line, column = where if where is not None else (setting.line, setting.column)
        context = (setting.key, *item.context)
        placed.append(replace(item, line=line, column=column, context=context))
    return placed


def _document_like(value: str) -> bool:
    if len(value) > MAX_DOCUMENT or not _PASSWORD_WORD.search(value):
        return False
    text = value.strip()
    return "\n" in text or (text.startswith("{") and text.endswith("}"))


@lru_cache(maxsize=64)
def _read(value: str) -> tuple[Setting, ...]:
    """The document's password-named settings, positions within `value` (parsed once
    per text)."""
    try:
        documents = compose_documents(value)
        if len(documents) != 1 or not isinstance(documents[0], MappingNode):
            return ()
        settings: list[Setting] = []
        _settings(documents[0], (), settings, 0)
    except (ConfigParseError, RecursionError):
        return ()
    named = [s for s in dict.fromkeys(settings) if _PASSWORD_WORD.search(s.key)]
    return tuple(named[:MAX_SETTINGS])


def _settings(node: Node, context: tuple[str, ...], out: list[Setting], depth: int) -> None:
    """The document's settings as the YAML file reader makes them (yamlwalk.walk: merge
    keys applied, a Kubernetes-style `{name, value}` entry is the setting name=value);
    a document has no commands, services or files to merge. yamlwalk itself reaches
    judge.py, which calls this module, so its walk is not imported here."""
    if depth > _MAX_DEPTH:
        raise ConfigParseError("YAML nested too deeply to read")
    if isinstance(node, MappingNode):
        pair = k8s.env_pair(node, context)
        if pair is not None:
            out.append(pair)
            return
        for key, value in effective_items(node):
            if isinstance(value, ScalarNode):
                out.append(scalar_setting(key, value, context))
            else:
                _settings(value, (*context, key), out, depth + 1)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _settings(item, context, out, depth + 1)


@lru_cache(maxsize=8)
def _file_lines(text: str) -> list[str]:
    return text.split("\n")


def _base_line(text: str, setting: Setting, lines: Sequence[str]) -> int | None:
    """The file line (1-based) of the value's first line: the value's own line (an env
    file, a flow value) or the next one (a literal block scalar's `|` line); None when
    the value's lines are not the file's."""
    file_lines = _file_lines(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    for base in (setting.line, setting.line + 1):
        if _offset(file_lines, base, setting, lines, first) is not None:
            return base
    return None


def _offset(
    file_lines: Sequence[str], base: int, setting: Setting, lines: Sequence[str], index: int
) -> int | None:
    """The 0-based column in the file where the value's line `index` is written."""
    number = base + index
    if not 0 < number <= len(file_lines):
        return None
    written, line = file_lines[number - 1], lines[index]
    if number == setting.line:  # the value starts at its own column
        start = setting.column - 1
        return start if written[start : start + len(line)] == line else None
    return len(written) - len(line) if written.endswith(line) else None


def _placed(
    text: str, base: int, setting: Setting, lines: Sequence[str], item: Setting
) -> tuple[int, int] | None:
    index = item.line - 1
    if not 0 <= index < len(lines):
        return None
    offset = _offset(_file_lines(text), base, setting, lines, index)
    return None if offset is None else (base + index, offset + item.column)
