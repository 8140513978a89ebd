"""Small argv helpers with no dependencies (judge and clients import them while the
config package is still being imported)."""

from __future__ import annotations


def program(word: str) -> str:
    """The program a word names: its last path part (either separator), lower-cased.
    (ntpath.basename cost a second on a command of 200,000 words.)"""
    return word.rpartition("/")[2].rpartition("\\")[2].lower()
