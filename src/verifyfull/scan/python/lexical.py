"""Views of a Python file's text for the prefilter, from one regex pass over its
strings and comments (no parse).

- document: comments and statement strings (docstrings and other strings standing
  alone as a statement) blanked. No rule reads either, so a word found only there
  cannot make a rule fire; library code is full of connection examples in
  docstrings, which made the prefilter parse whole packages for nothing.
- code: every string and comment blanked, f-strings (their braces hold code) kept
  after the rest: what is left is names, calls and imports, where a call's or an
  import's words live. Lines within a blanked token are not kept.
- literals: the values of the other strings (adjacent literals joined, escapes
  decoded, as the parser makes one constant of them) that hold "@" or "assword",
  the only ones a connection-string password can be in.

The document view keeps each line break, so its lines are the file's lines (the
walker reads a body's lines there).
The lexer follows Python's string and comment syntax exactly where it matters (the
quote that opens a string, escapes, triple quotes, comments) and is conservative
elsewhere: a string is a statement string only when it stands alone on its lines
outside any bracket, after a line that does not continue with a backslash, and has
no f prefix. Text it cannot lex (an unterminated string) gives no views: the
prefilter then keeps its verdict on the whole text.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

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


_SPLIT = re.compile("(" + _TOKEN.pattern + ")", re.DOTALL)


def _split(text: str) -> tuple[list[str], list[str]] | None:
    """The text's code pieces and tokens (strings, comments), alternating, code first;
    None when a quote opens no string (an unterminated string: not lexable)."""
    parts = _SPLIT.split(text)
    tokens = parts[1::2]
    if "'" in tokens or '"' in tokens:
        return None
    return parts[0::2], tokens


def split_strings(text: str) -> tuple[list[str], list[str]] | None:
    """The text's code pieces and its string and comment tokens, alternating, code first
    (a token's prefix letters end the code piece before it); None when not lexable.
    For Python written inside shell (scan/shell/python_code.py)."""
    return _split(text)


_BLANK_START = frozenset({"", " ", "\t", "\n", "\r", "\f"})


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


def _prefix(code_before: str) -> str:
    """The letters that end the code before a string: its prefix (r, b, f, rb, …)."""
    size = len(code_before)
    start = size
    while start > max(size - 2, 0) and code_before[start - 1].isalpha():
        start -= 1
    return code_before[start:]


def _bracket_delta(code: str) -> int:
    return (
        code.count("(")
        + code.count("[")
        + code.count("{")
        - code.count(")")
        - code.count("]")
        - code.count("}")
    )


class _Depth:
    """Brackets open before each token, counted over the code pieces only when asked:
    forward from the furthest point counted, or (for a step back) from the nearest
    earlier point asked before."""

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes
        self.counted = 0  # code pieces counted so far
        self.depth = 0
        self.points = [0]  # pieces counted at each forward step (increasing)
        self.depths = [0]  # depth after them

    def before_token(self, index: int) -> int:
        """Depth just before token `index` (code pieces 0..index)."""
        pieces = index + 1
        if pieces >= self.counted:
            self.depth += _bracket_delta("".join(self.codes[self.counted : pieces]))
            self.counted = pieces
            self.points.append(pieces)
            self.depths.append(self.depth)
            return self.depth
        nearest = bisect.bisect_right(self.points, pieces) - 1
        start = self.points[nearest]
        return self.depths[nearest] + _bracket_delta("".join(self.codes[start:pieces]))


def _starts_line(head: str, first: bool) -> bool:
    """Whether a string with this code before it (its prefix left out) stands first
    on its line, and that line does not continue the one before with a backslash."""
    head = head.rstrip(" \t\f")
    if not head:
        return first  # the start of the file (else a token ends right before it)
    return head.endswith("\n") and not head[:-1].rstrip("\r").endswith("\\")


def _ends_line(code_after: str, next_token: str | None) -> bool:
    """Only white space (and maybe a comment) follows the string on its line."""
    line_break = code_after.find("\n")
    if line_break >= 0:
        return not code_after[:line_break].strip()
    if code_after.strip():
        return False
    return next_token is None or next_token.startswith("#")


def _before_prefix(code_before: str, prefix: str) -> str:
    return code_before[: len(code_before) - len(prefix)]


def _joins(code_between: str, token: int, depth: _Depth) -> bool:
    """Whether a string and the one before it (`code_between` apart, `token` the later
    one's index) are one constant: white space only (comments are tokens of their
    own), a line break only inside brackets or after a backslash."""
    joined = code_between.replace("\\\r\n", "").replace("\\\n", "")
    if joined.strip():
        return False
    return "\n" not in joined or depth.before_token(token) > 0


def views(text: str) -> Views | None:
    """The views of `text`, or None when a quote opens no string (not lexable).

    One regex split (C) cuts the text into code pieces and tokens; the views are
    joined from those lists, and only the few tokens that could be a statement
    string or hold a password get Python-level attention."""
    split = _split(text)
    if split is None:
        return None
    codes, tokens = split
    count = len(tokens)
    prefixes = {
        i: _prefix(codes[i])
        for i in range(count)
        if codes[i][-1:].isalpha() and tokens[i][0] != "#"
    }
    fstrings = {i for i, prefix in prefixes.items() if "f" in prefix or "F" in prefix}
    # The code view needs no line structure: tokens become a space, and f-strings
    # (their braces hold code) are kept, after the rest.
    code = " ".join(codes)
    if fstrings:
        code += "\n" + "\n".join(tokens[i] for i in sorted(fstrings))
    document_tokens = ["" if token[0] == "#" else token for token in tokens]

    depth = _Depth(codes)
    statements: set[int] = set()
    # A statement string is followed by white space, a comment or the end: most
    # strings (followed by a comma, bracket, dot, operator) are ruled out here.
    followed_by_blank = [
        i for i in range(count) if codes[i + 1][:1] in _BLANK_START and tokens[i][0] != "#"
    ]
    for i in followed_by_blank:
        prefix = prefixes.get(i, "")
        if prefix.lower() not in _CONSTANT_PREFIXES:
            continue  # an f-string (or a name run into the quote)
        if not _starts_line(_before_prefix(codes[i], prefix), first=i == 0):
            continue
        if not _ends_line(codes[i + 1], tokens[i + 1] if i + 1 < count else None):
            continue
        if depth.before_token(i) == 0:
            statements.add(i)
            document_tokens[i] = "\n" * tokens[i].count("\n") or " "

    literals = _literals(tokens, codes, prefixes, statements, depth)
    return Views(_interleave(codes, document_tokens), code, tuple(literals))


def _interleave(codes: list[str], tokens: list[str]) -> str:
    joined: list[str] = [""] * (len(codes) + len(tokens))
    joined[0::2] = codes
    joined[1::2] = tokens
    return "".join(joined)


def _literals(
    tokens: list[str],
    codes: list[str],
    prefixes: dict[int, str],
    statements: set[int],
    depth: _Depth,
) -> list[str]:
    """The password-shaped values of the strings that are values: each string, and
    each run of adjacent strings joined (one constant, as the parser makes it)."""
    literals: list[str] = []
    done: set[int] = set()
    for i, token in enumerate(tokens):
        if i in done or token[0] == "#" or i in statements:
            continue
        if (
            "@" not in token
            and "assword" not in token
            and ("\\" not in token or not _CHARACTER_ESCAPE.search(token))
        ):
            continue  # nor can an escape make "@" or "assword"
        first = last = i
        while first > 0 and first - 1 not in statements:  # back over adjacent strings
            if not _joins(_before_prefix(codes[first], prefixes.get(first, "")), first, depth):
                break
            first -= 1
        while last + 1 < len(tokens):
            between = _before_prefix(codes[last + 1], prefixes.get(last + 1, ""))
            if not _joins(between, last + 1, depth):
                break
            last += 1
        run = [
            (prefixes.get(j, "").lower(), tokens[j])
            for j in range(first, last + 1)
            if tokens[j][0] != "#" and j not in statements
        ]
        done.update(range(first, last + 1))
        written = "".join(_body(token) for _, token in run)
        if not _password_shaped(written) and not (
            "\\" in written and _CHARACTER_ESCAPE.search(written)
        ):
            continue
        values = [_value(prefix, token) for prefix, token in run]
        for value in (*values, "".join(values)) if len(values) > 1 else values:
            if _password_shaped(value):
                literals.append(value)
    return literals


_BRACKET_OR_BREAK = re.compile(r"[()\[\]{}]|\\?\r?\n")


@lru_cache(maxsize=2)
def _layout(text: str) -> tuple[list[int], list[int]] | None:
    """Where each code piece of `text` starts (code pieces and tokens alternate) and
    the bracket depth before it; None when the text does not lex."""
    split = _split(text)
    if split is None:
        return None
    codes, tokens = split
    starts: list[int] = []
    depths: list[int] = []
    offset = depth = 0
    for code, token in itertools.zip_longest(codes, tokens, fillvalue=""):
        starts.append(offset)
        depths.append(depth)
        depth += _bracket_delta(code)
        offset += len(code) + len(token)
    return starts, depths


def statement_from(text: str, start: int) -> str:
    """The text from `start` (a position outside any string) to the end of its
    statement: the first line break outside brackets and strings that no backslash
    continues. Text that does not lex gives the rest of the text."""
    layout = _layout(text)
    if layout is None:
        return text[start:]
    starts, depths = layout
    piece = bisect.bisect_right(starts, start) - 1
    depth = depths[piece] + _bracket_delta(text[starts[piece] : start])
    position = start
    for token in itertools.chain(_TOKEN.finditer(text, start), (None,)):
        stop = token.start() if token is not None else len(text)
        for mark in _BRACKET_OR_BREAK.finditer(text, position, stop):
            char = mark.group()
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            elif depth <= 0 and not char.startswith("\\"):
                return text[start : mark.start()]
        if token is None:
            break
        position = token.end()
    return text[start:]
