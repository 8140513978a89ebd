"""The prefilter's lexer: what it blanks, what it keeps, and that the document view
never loses a line.

A string blanked from the document view must be one no rule reads (a docstring or
other string standing alone as a statement); a string kept as a value must keep its
value, adjacent literals joined and escapes decoded as the parser does. Each case is
checked against the parser itself (ast), not against expectations typed by hand.
"""

from __future__ import annotations

import ast
import io
import random
import tokenize
from pathlib import Path

import pytest

from verifyfull.scan.python.lexical import views

ROOT = Path(__file__).resolve().parent.parent


def _statement_starts(tree: ast.AST) -> set[tuple[int, int]]:
    """Where the strings standing alone as statements start (docstrings)."""
    return {
        (node.value.lineno, node.value.col_offset)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, (str, bytes))
    }


def _value_constants(tree: ast.AST) -> list[tuple[str, bool]]:
    """The values of the other string constants, each with whether it is written
    inside an f-string (where the lexer keeps the f-string's text, which holds it)."""
    statements = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    inside_fstrings = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for inner in ast.walk(node)
    }
    return [
        (node.value, id(node) in inside_fstrings)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in statements
    ]


def _assert_classified_as_the_parser_does(text: str) -> None:
    """Against Python's own tokenizer and parser: line count kept; every string token
    that is not a statement string still on its line of the document view; every
    value the parser builds that could hold a password among the literals; only
    statement strings blanked."""
    tree = ast.parse(text)
    lexed = views(text)
    assert lexed is not None, text
    assert lexed.document.count("\n") == text.count("\n"), text
    document_lines = lexed.document.splitlines()
    statements = _statement_starts(tree)
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        row, column = token.start
        first_line = token.string.split("\n")[0]
        if (row, column) not in statements:
            assert first_line in document_lines[row - 1], (text, token.string)
    for value, in_fstring in _value_constants(tree):
        if "@" in value or "assword" in value:
            if in_fstring:
                assert any(value in literal for literal in lexed.literals), (text, value)
            else:
                assert value in lexed.literals, (text, value)


def test_docstrings_and_comments_are_blanked_values_kept() -> None:
    text = (
        '"""Module: create_engine("postgresql://a:b@h/d")."""\n'
        "import sqlalchemy  # the driver\n"
        "def f():\n"
        "    '''Call connect() here.'''\n"
        '    return "postgresql://app@db/app"\n'
    )
    lexed = views(text)
    assert lexed is not None
    assert "create_engine" not in lexed.document and "connect()" not in lexed.document
    assert "# the driver" not in lexed.document
    assert '"postgresql://app@db/app"' in lexed.document
    assert "postgresql" not in lexed.code  # every string is gone from the code view
    assert "import sqlalchemy" in lexed.code
    assert lexed.literals == ("postgresql://app@db/app",)


@pytest.mark.parametrize(
    "text",
    [
        'x = (\n    "a string alone on its line, inside brackets"\n)\n',
        'call(\n    "alone"\n    "joined"\n)\n',
        'x = 1 + \\\n    "after a joined line"\n',
        'x = "same line"; y = 2\n',
        'd = {\n    "key":\n        "value on its own line"\n}\n',
        'f"{create_engine(url)} in an f-string"\n',
        '"a" "b"  # two strings: one constant\n',
        'if"x" in y:\n    pass\n',
    ],
)
def test_strings_that_are_values_stay_in_the_document(text: str) -> None:
    _assert_classified_as_the_parser_does(text)
    lexed = views(text)
    assert lexed is not None
    assert lexed.document.strip()  # nothing here stands alone as a statement string
    if "create_engine" in text:
        assert "create_engine" in lexed.code  # f-string braces are code


def test_adjacent_literals_and_escapes_give_the_parsers_value() -> None:
    text = (
        "DSN = (\n"
        '    "postgresql://app:split"  # a comment between\n'
        '    "@db/app"\n'
        ")\n"
        'KEYWORDS = "host=db\\npassword=x"\n'
        "HEX = 'a\\x40b'\n"
    )
    lexed = views(text)
    assert lexed is not None
    assert "postgresql://app:split@db/app" in lexed.literals
    assert "host=db\npassword=x" in lexed.literals
    assert "a@b" in lexed.literals


def test_strings_on_separate_statements_are_not_joined() -> None:
    lexed = views('A = "user:pw"\nB = "@host"\n')
    assert lexed is not None
    assert lexed.literals == ("@host",)


def test_unterminated_string_gives_no_views() -> None:
    assert views('x = "never closed\n') is None


def _corpus() -> list[Path]:
    return sorted(
        [
            *(ROOT / "src").rglob("*.py"),
            *(ROOT / "tests" / "fixtures").rglob("*.py"),
            *(ROOT / "examples").rglob("*.py"),
        ]
    )


def test_every_project_file_is_classified_as_the_parser_does() -> None:
    checked = 0
    for path in _corpus():
        text = path.read_text(encoding="utf-8")
        try:
            ast.parse(text)
        except SyntaxError:
            continue  # deliberately broken fixtures
        _assert_classified_as_the_parser_does(text)
        checked += 1
    assert checked > 50


STRING_FORMS = (
    "'{w}'",
    '"{w}"',
    "'''{w}'''",
    '"""{w}"""',
    "r'{w}'",
    "b'{w}'",
    "f'{{x}}{w}'",
    "'{w}\\n'",
)
STRING_PLACES = (
    "{s}\n",
    "def f():\n    {s}\n",
    "x = {s}\n",
    "call(\n    {s}\n)\n",
    "x = [\n    {s},\n    {s}\n]\n",
    "x = ({s}\n     {s})\n",
    "x = 1 + \\\n    {s}\n",
    "class C:\n    {s}\n    y = {s}  # {s}\n",
)


@pytest.mark.parametrize("seed", range(4))
def test_random_string_layouts_are_classified_as_the_parser_does(seed: int) -> None:
    rng = random.Random(seed)
    checked = 0
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(1, 4)):
            word = rng.choice(("doc", "a b", "x#y", "q'q", 'q"q', "u:p@h", "password=x"))
            form = rng.choice(STRING_FORMS)
            if ("'" in word and "'" in form) or ('"' in word and '"' in form):
                word = "w@h"
            parts.append(rng.choice(STRING_PLACES).format(s=form.format(w=word)))
        text = "".join(parts)
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        _assert_classified_as_the_parser_does(text)
        checked += 1
    assert checked > 100


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + len(
        lines[line - 1].encode("utf-8")[:column].decode("utf-8")
    )


def test_statement_from_holds_every_value_it_starts() -> None:
    """The prefilter looks for a decoding call in the statement that binds a password
    name (statement_from): from where a value starts, the span holds the whole value,
    on every fifth assignment and keyword argument of this project's files (all of
    them take twenty seconds: statement_from lexes from the start of the file)."""
    from verifyfull.scan.python.lexical import statement_from

    checked = 0
    for path in _corpus():
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)
        values = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.keyword) and node.value
        ]
        for node in values[::5]:
            if node.value:
                value = node.value
                segment = ast.get_source_segment(text, value)
                if segment is None:
                    continue
                start = _offset(lines, value.lineno, value.col_offset)
                assert statement_from(text, start).startswith(segment), (path, segment)
                checked += 1
    assert checked > 300
