"""Statements a fix wrote or grew, laid out as the file's formatter would (Black, Ruff).

A fix that adds `connect_args={...}` to a call, or turns a Tortoise `db_url` into a
config dict, may leave a line far longer than any the file has. Such a statement is
split the way Black and `ruff format` split it: the outermost bracket whose line is too
long gets one element per line, one indent deeper, with a trailing comma, and so on
inwards until every line fits (or nothing is left to split). Only statements the fix
changed are touched; the limit is the project's line length (`[tool.ruff]`,
`[tool.black]`, else 88), or the file's longest line when the file is written wider.
Trailing comments do not count: they cannot be split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst as cst
import tomlkit
from tomlkit.exceptions import TOMLKitError

DEFAULT_LINE_LENGTH = 88
_CODE = cst.Module(body=[]).code_for_node
_STEP = "    "


def line_length(project_root: Path) -> int:
    """The project's line length: pyproject's [tool.ruff] or [tool.black], else 88."""
    try:
        text = (project_root / "pyproject.toml").read_text(encoding="utf-8")
        data: Any = tomlkit.parse(text).unwrap()
    except (OSError, UnicodeDecodeError, TOMLKitError, ValueError):
        return DEFAULT_LINE_LENGTH
    tool = data.get("tool", {}) if isinstance(data, dict) else {}
    for name in ("ruff", "black"):
        value = tool.get(name, {}).get("line-length") if isinstance(tool, dict) else None
        if isinstance(value, int) and 40 <= value <= 400:
            return value
    return DEFAULT_LINE_LENGTH


def _width(code: str) -> int:
    """The longest line of `code`, trailing comments left out."""
    longest = 0
    for line in code.splitlines():
        body = line.split("  #", 1)[0].rstrip()
        longest = max(longest, len(body))
    return longest


def _break(depth: int) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        empty_lines=[],
        indent=True,
        last_line=cst.SimpleWhitespace(_STEP * depth),
    )


def _hugged(items: list[Any], depth: int) -> list[Any]:
    """Items on one line of their own, one indent deeper (no trailing comma)."""
    out = [
        i.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for i in items
    ]
    out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return out


def _exploded(items: list[Any], depth: int) -> list[Any]:
    """One item per line, one indent deeper, with a trailing comma."""
    out = [i.with_changes(comma=cst.Comma(whitespace_after=_break(depth + 1))) for i in items]
    out[-1] = out[-1].with_changes(comma=cst.Comma(whitespace_after=_break(depth)))
    return out


def _split_call(call: cst.Call, depth: int, *, hug: bool) -> cst.Call:
    if hug:
        args = _hugged(list(call.args), depth)
        args[-1] = args[-1].with_changes(whitespace_after_arg=_break(depth))
    else:
        args = _exploded(list(call.args), depth)
        args[-1] = args[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=args, whitespace_before_args=_break(depth + 1))


def _split_dict(node: cst.Dict, depth: int, *, hug: bool) -> cst.Dict:
    elements = (_hugged if hug else _exploded)(list(node.elements), depth)
    closing = _break(depth) if hug else cst.SimpleWhitespace("")
    return node.with_changes(
        elements=elements,
        lbrace=cst.LeftCurlyBrace(whitespace_after=_break(depth + 1)),
        rbrace=cst.RightCurlyBrace(whitespace_before=closing),
    )


class _Splitter(cst.CSTTransformer):
    """Split the outermost too-long bracket of one statement, then its elements."""

    def __init__(self, indent: int, limit: int) -> None:
        super().__init__()
        self.indent = indent
        self.limit = limit

    def fits(self, node: cst.CSTNode, column: int) -> bool:
        return column + _width(_CODE(node)) <= self.limit

    def split(self, node: cst.BaseExpression, depth: int) -> cst.BaseExpression:
        """`node` (at one indent per depth inside the statement) split until it fits: its
        contents on one line of their own when they fit there (the formatters' first
        try), else one element per line, each split in turn."""
        inner_column = self.indent + len(_STEP) * (depth + 1)
        if isinstance(node, cst.Call) and node.args:
            hugged = _split_call(node, depth, hug=True)
            if self._inside_fits(hugged.args, inner_column):
                return hugged
            if len(node.args) == 1:  # one argument: hugged, split inside (no trailing comma)
                (arg,) = hugged.args
                return hugged.with_changes(
                    args=[arg.with_changes(value=self._inner(arg.value, depth + 1, arg))]
                )
            call = _split_call(node, depth, hug=False)
            args = [a.with_changes(value=self._inner(a.value, depth + 1, a)) for a in call.args]
            return call.with_changes(args=args)
        if isinstance(node, cst.Dict) and node.elements:
            hugged_dict = _split_dict(node, depth, hug=True)
            if self._inside_fits(hugged_dict.elements, inner_column):
                return hugged_dict
            split = _split_dict(node, depth, hug=False)
            elements = [
                e.with_changes(value=self._inner(e.value, depth + 1, e))
                if isinstance(e, cst.DictElement)
                else e
                for e in split.elements
            ]
            return split.with_changes(elements=elements)
        return node

    def _inside_fits(self, items: Any, column: int) -> bool:
        inside = "".join(_CODE(i) for i in items)
        return "\n" not in inside.strip() and column + _width(inside) <= self.limit

    def _inner(
        self, value: cst.BaseExpression, depth: int, owner: cst.CSTNode
    ) -> cst.BaseExpression:
        column = self.indent + len(_STEP) * depth
        # one element per line: each ends with its comma (the +1)
        if self.fits(owner.with_changes(comma=cst.MaybeSentinel.DEFAULT), column + 1):
            return value
        return self.split(value, depth)


def fitted(statement: cst.SimpleStatementLine, indent: int, limit: int) -> cst.SimpleStatementLine:
    """`statement` (at `indent` columns) split the formatter's way until it fits."""
    if indent + _width(_CODE(statement.with_changes(leading_lines=()))) <= limit:
        return statement
    if len(statement.body) != 1:
        return statement
    small = statement.body[0]
    splitter = _Splitter(indent, limit)
    value = getattr(small, "value", None)
    if not isinstance(small, cst.Expr | cst.Assign | cst.AnnAssign | cst.Return):
        return statement
    if isinstance(value, cst.Call | cst.Dict):
        return statement.with_changes(body=[small.with_changes(value=splitter.split(value, 0))])
    if isinstance(value, cst.Await) and isinstance(value.expression, cst.Call):
        inner = value.with_changes(expression=splitter.split(value.expression, 0))
        return statement.with_changes(body=[small.with_changes(value=inner)])
    return statement


class _Layout(cst.CSTTransformer):
    """Fit every statement whose code is not one of the original module's."""

    def __init__(self, original: set[str], limit: int) -> None:
        super().__init__()
        self.original = original
        self.limit = limit
        self.depth = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if _CODE(original_node.with_changes(leading_lines=())) in self.original:
            return updated_node
        return fitted(updated_node, len(_STEP) * self.depth, self.limit)


def statements(module: cst.Module) -> set[str]:
    """The code of every simple statement of `module` (without the lines above it)."""
    found: set[str] = set()

    class _Collect(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
            found.add(_CODE(node.with_changes(leading_lines=())))

    module.visit(_Collect())
    return found


def laid_out(fixed: cst.Module, original: cst.Module, limit: int) -> cst.Module:
    """`fixed` with the statements the fix wrote or changed fitted to the line length
    (or to the original's longest line, when the file is written wider)."""
    widest = _width(original.code)
    return fixed.visit(_Layout(statements(original), max(limit, widest)))
