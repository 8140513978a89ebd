"""Split a shell command string into words that remember where they are written.

(Placeholders, `changeme` and the like, are the shared predicate
verifyfull.scan.placeholders.is_placeholder, for the Python and config sides alike.)"""

from __future__ import annotations

import shlex
from dataclasses import replace

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command, Word


def split_command(text: str) -> list[str]:
    """shlex words; an unbalanced quote falls back to plain whitespace splitting."""
    try:
        return shlex.split(text, comments=True, posix=True)
    except ValueError:
        return text.split()


def place_words(src: SourceFile, words: list[str], line: int, column: int) -> list[Word]:
    """Place each word on the first source line at or after (line, column) holding it.

    Words of one command appear in order, so the search resumes after the last
    word found; a word that cannot be found (quotes rewritten by shlex) takes the
    place of the previous one.
    """
    lines = src.lines
    placed: list[Word] = []
    cur_line, cur_col = line, max(column - 1, 0)
    for text in words:
        found = False
        for number in range(cur_line, min(cur_line + 50, len(lines)) + 1):
            start = cur_col if number == cur_line else 0
            index = lines[number - 1].find(text, start) if text else -1
            if index >= 0:
                placed.append(Word(text, number, index + 1))
                cur_line, cur_col = number, index + len(text)
                found = True
                break
        if not found:
            placed.append(Word(text, cur_line, cur_col + 1))
    return placed


def command_words(src: SourceFile, text: str, line: int, column: int) -> list[Word]:
    return place_words(src, split_command(text), line, column)


def where_written(src: SourceFile, command: Command) -> Command:
    """The command with each word at the source position that holds it. A script read
    out of a folded YAML scalar (a plain or `>` multi-line `- exec cockroach start …`
    item) is one line to the shell reader, so its words all land on the scalar's first
    line; a word not found where it was placed is looked for from the previous word on
    (place_words' search), so `--insecure` is reported on its own line."""
    lines = src.lines
    placed: list[Word] = []
    cur_line, cur_col = (
        (command.words[0].line, command.words[0].column - 1) if command.words else (1, 0)
    )
    for word in command.words:
        text = lines[word.line - 1] if 0 < word.line <= len(lines) else ""
        if word.text and text[word.column - 1 :].startswith(word.text):
            placed.append(word)
            cur_line, cur_col = word.line, word.column - 1 + len(word.text)
            continue
        moved = place_words(src, [word.text], cur_line, cur_col + 1)[0]
        if moved.text and lines[moved.line - 1][moved.column - 1 :].startswith(moved.text):
            placed.append(replace(word, line=moved.line, column=moved.column))
            cur_line, cur_col = moved.line, moved.column - 1 + len(word.text)
        else:
            placed.append(word)
    return replace(command, words=tuple(placed))
