"""Helm chart templates (and other `{{ … }}`-templated YAML).

A template is read as YAML once its actions are blanked (`untemplate`); most
are. Those that only become YAML after rendering (`- {{ toYaml . | nindent 10 }}`
followed by keys) are read line by line instead (`template_lines`): `key: value`
lines become settings, `- name: X` / `value: Y` pairs become settings, and the
words of the whole file form one command, so `--insecure` in an `args:` list of
a cockroach container is still found. No error is reported for such a file: it
is a template, not broken YAML.
"""

from __future__ import annotations

import dataclasses
import re

from verifyfull.findings import Finding
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command, Setting, Word
from verifyfull.scan.config.words import place_words, split_command

# Helm/Go `{{ … }}` actions, and Jinja's `{% … %}` statements and `{# … #}` comments
# (cookiecutter, Ansible, Salt templates: held-out-s14b 20tab/talos, whose compose file's
# `{%- if … %}` lines made it no YAML, so its services were never read).
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_OPENERS = ("{{", "{%", "{#")
_KEY_VALUE = re.compile(r"^\s*(?:-\s+)?(?P<key>[A-Za-z_][\w.\-]*)\s*:\s+(?P<value>\S.*?)\s*$")
_ITEM = re.compile(r"^\s*-\s+(?P<item>[^\s:][^:]*?)\s*$")
_COMMENT = re.compile(r"\s+#.*$")


def untemplate(text: str) -> str:
    """Blank out Helm/Jinja `{{ … }}` (and Jinja `{% … %}`, `{# … #}`) so a template
    composes as YAML.

    A line holding only template actions becomes empty; an inline action becomes
    a same-length placeholder, so every other column stays where it was.
    """
    if not any(opener in text for opener in _OPENERS):
        return text
    out = []
    for line in text.split("\n"):
        if line.strip() and not _TEMPLATE.sub("", line).strip():
            out.append("")
        else:
            out.append(_TEMPLATE.sub(lambda m: "_" * len(m.group()), line))
    return "\n".join(out)


def noted(found: list[Finding]) -> list[Finding]:
    """Findings in a template hold when that part is rendered: say so."""
    note = " (in a template: holds wherever this part is rendered)"
    return [dataclasses.replace(f, message=f.message + note) for f in found]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def template_lines(src: SourceFile) -> tuple[list[Setting], list[Command]]:
    """Settings and one file-wide command from a template read line by line."""
    settings: list[Setting] = []
    words: list[Word] = []
    pending_name: str | None = None
    for number, raw in enumerate(untemplate(src.text).splitlines(), start=1):
        line = _COMMENT.sub("", raw)
        pair = _KEY_VALUE.match(line)
        if pair is not None:
            key, value = pair.group("key"), _unquote(pair.group("value"))
            column = pair.start("value") + 1 + (1 if pair.group("value")[:1] in "\"'" else 0)
            if key == "name":
                pending_name = value
            elif key == "value" and pending_name is not None:
                settings.append(Setting(pending_name, value, number, column))
                pending_name = None
            else:
                settings.append(Setting(key, value, number, column))
            words.extend(place_words(src, split_command(value), number, column))
            continue
        item = _ITEM.match(line)
        text = item.group("item") if item else line.strip()
        if text and not text.endswith(":"):
            words.extend(place_words(src, split_command(_unquote(text)), number, 1))
    return settings, [Command(tuple(words))] if words else []
