"""Small argv helpers with no dependencies (judge and clients import them while the
config package is still being imported)."""

from __future__ import annotations

from collections.abc import Sequence


def program(word: str) -> str:
    """The program a word names: its last path part (either separator), lower-cased.
    (ntpath.basename cost a second on a command of 200,000 words.)"""
    return word.rpartition("/")[2].rpartition("\\")[2].lower()


# Programs that run the next word as the command (`sudo echo ... >> pg_hba.conf`,
# held-out-s8: lawyer_business' configure-postgresql.sh), and the options of sudo
# and env that take a value (`sudo -u postgres echo ...`).
_WRAPPERS = frozenset({"sudo", "doas", "env", "exec", "command", "nohup", "builtin"})
_VALUE_OPTIONS = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t", "-S"})


def _assignment(word: str) -> bool:
    name, equals, _ = word.partition("=")
    return bool(equals) and name.isidentifier() and name.isascii()


def run_program_at(words: Sequence[str]) -> int | None:
    """Index of the word naming the program a command line runs, past wrappers
    (`sudo -u postgres`, `env A=b`, `exec`) and leading assignments; None when only
    wrappers are written."""
    index = 0
    wrapped = False
    while index < len(words):
        word = words[index]
        if program(word) in _WRAPPERS or _assignment(word):
            wrapped = wrapped or program(word) in _WRAPPERS
            index += 1
        elif wrapped and word.startswith("-"):
            index += 2 if word in _VALUE_OPTIONS else 1
        else:
            return index
    return None
