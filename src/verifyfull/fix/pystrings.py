"""Python string literals as editable text: plain, f-strings and implicit concatenations.

A literal is handled as its pieces' source text between the quotes, so an
f-string's `{expression}` stays exactly as written while TLS parameters around
it are rewritten; each edited piece is parsed back by libcst.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

import libcst as cst

from verifyfull.fix.dsn_edit import TLS_KEYS

_EMPTY = cst.Module(body=[])
_TLS_PARAM = re.compile(r"([?&])(" + "|".join(TLS_KEYS) + r")=([^&]*)")


@dataclass(frozen=True)
class Piece:
    prefix: str  # as written: "", "f", "rf", ...
    quote: str  # '"', "'", '"""', ...
    content: str  # source text between the quotes

    @property
    def is_fstring(self) -> bool:
        return "f" in self.prefix.lower()

    def node(self) -> cst.BaseExpression:
        return cst.parse_expression(f"{self.prefix}{self.quote}{self.content}{self.quote}")

    def as_fstring(self) -> Piece:
        if self.is_fstring:
            return self
        escaped = self.content.replace("{", "{{").replace("}", "}}")
        return Piece("f" + self.prefix, self.quote, escaped)


def piece_of(node: cst.BaseExpression) -> Piece | None:
    """One literal piece, or None for bytes and anything that is not a string literal."""
    if isinstance(node, cst.SimpleString):
        if "b" in node.prefix.lower():
            return None
        return Piece(node.prefix, node.quote, node.raw_value)
    if isinstance(node, cst.FormattedString):
        content = "".join(_EMPTY.code_for_node(part) for part in node.parts)
        quote = node.start[len(node.prefix) :]
        return Piece(node.prefix, quote, content)
    return None


def flatten(
    node: cst.BaseExpression,
) -> list[tuple[Piece, cst.BaseParenthesizableWhitespace]] | None:
    """The pieces of a literal (each with the whitespace before it), or None."""
    if isinstance(node, cst.ConcatenatedString):
        left = flatten(node.left)
        right = flatten(node.right)
        if left is None or right is None:
            return None
        first, _ = right[0]
        return [*left, (first, node.whitespace_between), *right[1:]]
    piece = piece_of(node)
    return [(piece, cst.SimpleWhitespace(""))] if piece else None


def rebuild(
    pieces: list[tuple[Piece, cst.BaseParenthesizableWhitespace]], original: cst.BaseExpression
) -> cst.BaseExpression:
    """A literal made of `pieces`, keeping the original's parentheses."""
    # libcst nests concatenations to the right: a "b" "c" is (a, ("b", "c")).
    nodes = [piece.node() for piece, _ in pieces]
    result = nodes[-1]
    for index in range(len(pieces) - 2, -1, -1):
        left = nodes[index]
        assert isinstance(left, cst.SimpleString | cst.FormattedString)
        assert isinstance(result, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString)
        result = cst.ConcatenatedString(
            left=left, right=result, whitespace_between=pieces[index + 1][1]
        )
    return result.with_changes(lpar=original.lpar, rpar=original.rpar)


def text_of(node: cst.BaseExpression) -> str | None:
    """The literal's text as written (f-string fields left as `{...}`)."""
    pieces = flatten(node)
    return "".join(p.content for p, _ in pieces) if pieces else None


def value_expression(piece: Piece, value: str) -> str:
    """Python source for a parameter value taken from a piece (`{DB_CA_PATH}` -> `DB_CA_PATH`).

    A literal value is the path the driver reads: URL query values are percent-decoded
    (asyncpg and SQLAlchemy read the query with urllib's parse_qs: `%20` and `+` are a
    space), so the SSLContext the fix builds opens the same file."""
    if piece.is_fstring:
        field = re.fullmatch(r"\{([^{}!:]+)\}", value)
        if field:
            return field.group(1).strip()
        if "{" in value:
            return f'f"{value}"' if '"' not in value else f"f'{value}'"
    if "\\" not in value:  # source text equals the text: decode it as the driver does
        value = urllib.parse.unquote_plus(value)
        return f'"{value}"' if value.isprintable() and '"' not in value else repr(value)
    return repr(value) if '"' in value else f'"{value}"'


def strip_tls(
    node: cst.BaseExpression,
) -> tuple[cst.BaseExpression, dict[str, str]] | None:
    """The URL literal without TLS query parameters, and their values as Python source.

    Pieces left empty are dropped with the whitespace before them, so the seed's
    one-parameter-per-line form loses exactly its TLS lines.
    """
    pieces = flatten(node)
    if pieces is None:
        return None
    values: dict[str, str] = {}
    kept: list[tuple[Piece, cst.BaseParenthesizableWhitespace]] = []
    need_question = False
    for piece, space in pieces:
        content = piece.content
        if need_question and content.startswith("&"):
            content = "?" + content[1:]
            need_question = False

        def drop(match: re.Match[str], piece: Piece = piece) -> str:
            values[match.group(2)] = value_expression(piece, match.group(3))
            return "\0" if match.group(1) == "?" else ""

        content = _TLS_PARAM.sub(drop, content)
        if "\0" in content:
            content = content.replace("\0&", "?").replace("\0", "")
            need_question = "?" not in content.split("://")[-1]
        if content:
            kept.append((Piece(piece.prefix, piece.quote, content), space))
    if not values or not kept:
        return None
    first_piece, _ = kept[0]
    kept[0] = (first_piece, cst.SimpleWhitespace(""))
    return rebuild(kept, node), values
