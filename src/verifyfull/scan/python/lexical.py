"""Views of a Python file's text for the prefilter, from one regex pass over its
strings and comments (no parse).

- document: comments and statement strings (docstrings and other strings standing
  alone as a statement) blanked. No rule reads either, so a word found only there
  cannot make a rule fire; library code is full of connection examples in
  docstrings, which made the prefilter parse whole packages for nothing.
- code: every string and comment blanked, except f-strings (their braces hold code):
  what is left is names, calls and imports, where a call's or an import's words live.
- literals: the values of the other strings (adjacent literals joined, escapes
  decoded, as the parser makes one constant of them) that hold "@" or "assword",
  the only ones a connection-string password can be in.

Blanking keeps each line break, so a line of a view is the same line of the file.
The lexer follows Python's string and comment syntax exactly where it matters (the
quote that opens a string, escapes, triple quotes, comments) and is conservative
elsewhere: a string is a statement string only when it stands alone on its lines
outside any bracket, after a line that does not continue with a backslash, and has
no f prefix. Text it cannot lex (an unterminated string) gives no views: the
prefilter then keeps its verdict on the whole text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_TRIPLE_SINGLE = "'''"
_TRIPLE_DOUBLE = '"""'
# Every alternative starts with a literal character, so the regex engine skips
# straight to the next "#" or quote (named groups would cost it that: 3x slower).
_TOKEN = re.compile(
    "|".join(
        (
            r"#[^\r\n]*",
            # A backslash escapes the next character, a raw string's included: that is
            # where the tokenizer ends a string, whatever the escape means.
            _TRIPLE_SINGLE + r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*" + _TRIPLE_SINGLE,
            _TRIPLE_DOUBLE + r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*' + _TRIPLE_DOUBLE,
            r"'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'",
            r'"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"',
            "'",  # a quote that opens no string: not lexable
            '"',
        )
    ),
    re.DOTALL,
)
# Escapes that can stand for any character (the others are white space or quotes).
_CHARACTER_ESCAPE = re.compile(r"\\[xuUN0-7]")
# Prefixes of a string that is a plain constant (not an f-string).
_CONSTANT_PREFIXES = frozenset({"", "r", "u", "b", "br", "rb"})


@dataclass(frozen=True)
class Views:
    document: str
    code: str
    literals: tuple[str, ...] = ()


def _blank(text: str, start: int, end: int) -> str:
    breaks = text.count("\n", start, end)
    return "\n" * breaks if breaks else " "


def _continues_previous_line(text: str, line_start: int) -> bool:
    """Whether the line before `line_start` ends with a backslash (an explicit join)."""
    at = line_start - 1
    while at >= 0 and text[at] in "\r\n":
        at -= 1
    return at >= 0 and text[at] == "\\"


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Nothing but white space before `start` on its line and after `end` on its line
    (a comment may follow), and the line is not joined to the one before."""
    line_start = text.rfind("\n", 0, start) + 1
    if line_start != start and not text[line_start:start].isspace():
        return False
    if _continues_previous_line(text, line_start):
        return False
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)].strip()
    return not rest or rest.startswith("#")


def _body(token: str) -> str:
    quote = 3 if token.startswith((_TRIPLE_SINGLE, _TRIPLE_DOUBLE)) else 1
    return token[quote:-quote]


def _value(prefix: str, token: str) -> str:
    """A string token's value as the parser makes it. An f-string is read as the plain
    string it would be without the f: its constant parts are in it, escapes decoded
    (in Python 3.11 its braces can hold neither a backslash nor its own quote)."""
    body = _body(token)
    if "\\" not in body:
        return body
    try:
        value = ast.literal_eval(prefix.replace("f", "") + token)
    except (ValueError, SyntaxError, MemoryError):
        return body
    return value if isinstance(value, str) else body


def _password_shaped(value: str) -> bool:
    return "@" in value or "assword" in value


def _depth(segments: list[str]) -> int:
    code = "".join(segments)
    return (
        code.count("(")
        + code.count("[")
        + code.count("{")
        - code.count(")")
        - code.count("]")
        - code.count("}")
    )


def views(text: str) -> Views | None:
    document: list[str] = []
    code: list[str] = []
    literals: list[str] = []
    run: list[tuple[str, str]] = []  # adjacent string tokens (prefix, token): one constant
    depth = 0  # brackets open before `unaccounted`, counted only when asked (speed)
    unaccounted: list[str] = []
    last = 0
    size = len(text)
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        first = text[start]
        if end - start == 1 and first != "#":
            return None  # an unterminated string
        token_start = start  # a string's prefix letters are part of its token
        if first != "#":
            while token_start > max(start - 2, last) and text[token_start - 1].isalpha():
                token_start -= 1
        between = text[last:token_start]
        document.append(between)
        code.append(between)
        unaccounted.append(between)
        last = end
        if run:
            # Adjacent strings are one constant: white space only between them (a
            # comment is a token of its own), a line break only inside brackets or
            # after a backslash.
            joined = between.replace("\\\r\n", "").replace("\\\n", "")
            if joined.strip():
                _close(run, literals)
            elif "\n" in joined:
                depth += _depth(unaccounted)
                unaccounted.clear()
                if depth <= 0:
                    _close(run, literals)
        if first == "#":
            continue
        prefix = text[token_start:start].lower()
        token = text[start:end]
        if "f" in prefix:  # an f-string's braces hold code
            document.append(text[token_start:end])
            code.append(text[token_start:end])
            run.append((prefix, token))
        else:
            code.append(text[token_start:start] + _blank(text, start, end))
            statement = (
                not run
                and prefix in _CONSTANT_PREFIXES
                and (token_start == 0 or text[token_start - 1] in " \t\n\f")
                and _stands_alone(text, token_start, end)
            )
            if statement:  # alone on its lines: a statement unless inside brackets
                depth += _depth(unaccounted)
                unaccounted.clear()
                statement = depth == 0
            if statement:
                document.append(_blank(text, start, end))
                continue
            document.append(text[token_start:end])
            run.append((prefix, token))
        # What follows the string decides most runs at once: an operator, a comma or
        # a bracket ends the constant (only white space, a line join or a comment can
        # stand between two parts of one).
        if end < size and text[end] not in _MAY_JOIN:
            _close(run, literals)
    _close(run, literals)
    document.append(text[last:])
    code.append(text[last:])
    return Views("".join(document), "".join(code), tuple(literals))


# Characters after a string that leave it open to an adjacent one: white space, a
# line join, a comment, the next string's quote or prefix letter.
_MAY_JOIN = frozenset(" \t\r\n\f\\#'\"rRbBuUfF")


def _close(run: list[tuple[str, str]], literals: list[str]) -> None:
    """The values of a run of adjacent strings (prefix, token), each and the constant
    they make together (the parser's; each alone is a superset's safety net), when
    one could hold a password. Decoding is the costly part: done only when the
    written text holds "@" or "assword", or an escape could make either."""
    if not run:
        return
    if len(run) == 1:
        token = run[0][1]
        if "@" not in token and "assword" not in token and "\\" not in token:
            run.clear()  # the common case: nothing a password could be in
            return
    written = "".join(_body(token) for _, token in run)
    if not _password_shaped(written) and not (
        "\\" in written and _CHARACTER_ESCAPE.search(written)
    ):
        run.clear()
        return
    values = [_value(prefix, token) for prefix, token in run]
    for value in (*values, "".join(values)) if len(values) > 1 else values:
        if _password_shaped(value):
            literals.append(value)
    run.clear()
