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
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENERS = tuple(_CLOSERS)


def _actions(line: str) -> list[tuple[int, int]]:
    """The (start, end) of each template action of a line, as `{{.*?}}|{%.*?%}|{#.*?#}`
    finds them, in linear time: a pattern's lazy `.*?` rescans the rest of the line from
    every opener without a closer (`{{` 20,000 times on one line: 20 s; session 14)."""
    spans: list[tuple[int, int]] = []
    position = 0
    upcoming = {opener: line.find(opener) for opener in _OPENERS}
    while True:
        for opener, at in list(upcoming.items()):
            if 0 <= at < position:
                upcoming[opener] = line.find(opener, position)
        live = [(at, opener) for opener, at in upcoming.items() if at >= 0]
        if not live:
            return spans
        start, opener = min(live)
        end = line.find(_CLOSERS[opener], start + 2)
        if end < 0:
            del upcoming[opener]  # no closer after this one: none after any later one
            continue
        spans.append((start, end + 2))
        position = end + 2


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
        spans = _actions(line) if any(opener in line for opener in _OPENERS) else []
        pieces: list[str] = []  # the line with each action as a same-length placeholder
        outside: list[str] = []  # the line without its actions
        last = 0
        for begin, end in spans:
            pieces += [line[last:begin], "_" * (end - begin)]
            outside.append(line[last:begin])
            last = end
        pieces.append(line[last:])
        outside.append(line[last:])
        only_actions = bool(spans) and not "".join(outside).strip()
        out.append("" if only_actions else "".join(pieces))
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
