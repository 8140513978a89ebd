"""Statements a fix grows are split the formatters' way (fix/layout.py).

Generated calls and dicts (nested, of random widths) at random indents: the fitted
statement means the same (same AST), every line fits the limit unless nothing is left
to split there, and a statement that already fits is returned unchanged. The Tortoise
config the fix writes is not one long line any more.
"""

from __future__ import annotations

import ast
import keyword

import libcst as cst
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.fix.layout import fitted
from verifyfull.fix.python_fixes import fix_python

# Identifiers: a drawn word that is a keyword (`def`, `if`) is no name, and made the
# generated expression a syntax error of the test's own making.
_NAMES = st.text("abcdefgh", min_size=1, max_size=12).filter(lambda n: not keyword.iskeyword(n))


def _value(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(
        _NAMES,
        st.integers(0, 10**6).map(str),
        _NAMES.map(lambda n: f'"{n}"'),
    )
    if depth == 0:
        return leaf
    inner = _value(depth - 1)
    return st.one_of(
        leaf,
        st.lists(st.tuples(_NAMES, inner), min_size=1, max_size=5).map(
            lambda items: "{" + ", ".join(f'"{k}": {v}' for k, v in items) + "}"
        ),
        st.tuples(_NAMES, st.lists(inner, min_size=1, max_size=4)).map(
            lambda call: f"{call[0]}({', '.join(call[1])})"
        ),
    )


@settings(max_examples=60, deadline=None)
@given(
    value=_value(3),
    indent=st.sampled_from([0, 4, 8]),
    limit=st.sampled_from([40, 60, 88]),
)
def test_fitted_means_the_same_and_fits(value: str, indent: int, limit: int) -> None:
    code = f"x = f({value}, key={value})\n"
    statement = cst.parse_statement(code)
    assert isinstance(statement, cst.SimpleStatementLine)
    out = cst.Module(body=[fitted(statement, indent, limit)]).code
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(code))
    if indent + len(code.rstrip()) <= limit:
        assert out == code
    for line in out.splitlines():
        if indent + len(line) > limit:
            # only a line with no bracket left to split at is too long (one that ends
            # with its opening bracket is split already: its head is what is long)
            body = line.strip().rstrip(",")
            head = body[:-1] if body.endswith(("(", "{")) else body
            assert "(" not in head and "{" not in head, out


def test_the_tortoise_config_a_fix_writes_is_laid_out() -> None:
    text = (
        "from tortoise.contrib.fastapi import register_tortoise\n\n"
        "register_tortoise(\n"
        "    app,\n"
        '    db_url="asyncpg://audit@db:26257/audit?ssl=true",\n'
        '    modules={"models": ["app.models"]},\n'
        ")\n"
    )
    fixed = fix_python(text, [3]).text
    assert max(len(line) for line in fixed.splitlines() if "#" not in line) <= 88
    assert '        "connections": {\n' in fixed
    compile(fixed, "app.py", "exec")
