"""Split a shell command string into words that remember where they are written;
and the words a config value uses to stand in for a secret (is_placeholder)."""

from __future__ import annotations

import re
import shlex

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Word


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


# --- placeholders ---------------------------------------------------------------------
#
# A value an example or template puts where the real secret goes: not a credential
# (VF401 would only teach users to ignore it). Checked on the value's words, split at
# `_`, `-`, `.` and spaces and case-folded, so `changeme`, `CHANGE_ME`,
# `db_password_change_me` and `Your-Password` read the same.

# Joined words that say "replace me" wherever they stand in the value.
_REPLACE_ME = ("changeme", "changethis", "changeit", "replaceme", "setme", "fillme")
# A whole value that is one of these words (joined).
_PLACEHOLDER_VALUES = frozenset({"placeholder", "redacted", "todo", "tbd", "fixme", "notset"})
# `YourPassword`, `yourdbpass`: "your" glued to what it names.
_YOUR = re.compile(r"your(pass|pwd|db|secret|database|postgres|key|token|user)")
_SEPARATORS = re.compile(r"[\s_.\-]+")


def _words(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(text.casefold()) if word]


def is_placeholder(key: str, value: str) -> bool:
    """Whether `value`, written for `key`, stands in for a secret rather than being one.

    Placeholders: a value holding change-me / change-this / change-it / replace-me /
    set-me / fill-me in any spelling (`changeme`, `CHANGE_ME`, `pg_change_me_now`); a
    value starting with the word `your` (`your_password`, `YourDbPassword`); `set by
    ...` (`set-by-helm`); a value ending in the word `here` (`password_here`); one of
    placeholder, redacted, todo, tbd, fixme, notset; a run of one repeated
    character `x`, `*`, `.` or `#` (`xxxxxx`); a value in angle brackets (`<set-me>`);
    and a value equal to its key or to the key's last dotted part, ignoring case and
    separators (`password: password`, `DB_PASSWORD=db_password`). A real-looking word
    (`postgres`, `password` for `DB_PASSWORD`, `secret`) is not a placeholder.
    """
    text = value.strip().strip("'\"").strip()
    if not text:
        return False
    if text.startswith("<") and text.endswith(">"):
        return True
    if len(set(text.casefold())) == 1 and text[0].casefold() in "x*.#":
        return True
    words = _words(text)
    if not words:
        return False
    joined = "".join(words)
    if any(marker in joined for marker in _REPLACE_ME):
        return True
    if words[0] == "your" or _YOUR.match(joined) or words[-1] == "here":
        return True
    if words[:2] == ["set", "by"] or joined in _PLACEHOLDER_VALUES:
        return True
    key_words = _words(key.strip())
    last_part = _words(key.strip().rsplit(".", 1)[-1])
    return bool(key_words) and joined in ("".join(key_words), "".join(last_part))
