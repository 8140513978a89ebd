"""The callers search reads a module only when its text can call the function
(callers.may_call): sound, i.e. every module whose syntax tree calls `name` by a plain
name, or imports it under another name, holds that text; and a function's callers
written in every such spelling are still found across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_trust_bounds import HANG_SECONDS, scan_shape, watchdog
from verifyfull.scan.python.callers import may_call

# What may stand between a called name and its `(` inside parentheses.
_BETWEEN = st.lists(
    st.sampled_from([" ", "\t", "\n", "\\\n", "# a comment (\n", "#x#y\n", ")"]), max_size=6
)


def _calls_by_name(tree: ast.AST, name: str) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(tree)
    )


@settings(max_examples=300, deadline=None)
@given(
    name=st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
    between=_BETWEEN,
    before=st.sampled_from(["", "x = ", "await ", "return_value = [", "f(1, "]),
)
def test_every_module_that_calls_the_name_holds_the_text(
    name: str, between: list[str], before: str
) -> None:
    closes = between.count(")")
    pieces = "".join(between)
    opened = "(" * closes
    tail = {"": "", "x = ": "", "await ": "", "return_value = [": "]", "f(1, ": ")"}[before]
    source = f"async def g():\n    v = ({before}{opened}{name}{pieces}(1){tail})\n"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # not a program: nothing to be sound about
    if _calls_by_name(tree, name):
        assert may_call(name).search(source.encode()), source


@pytest.mark.parametrize("rename", [False, True])
def test_a_renamed_import_is_text_that_may_call(rename: bool) -> None:
    source = "from db import connect_to as open_db\nopen_db(1)\n" if rename else "import db\n"
    assert bool(may_call("connect_to").search(source.encode())) is rename


def test_a_module_that_only_imports_the_name_is_not_read_as_a_caller() -> None:
    text = b"from db import connect_to\n__all__ = ['connect_to']\nhandler = connect_to\n"
    assert may_call("connect_to").search(text) is None


@pytest.mark.parametrize(
    "call",
    [
        "connect_to('{url}')",
        "connect_to (\n    '{url}')",
        "(connect_to)('{url}')",
        "connect_to \\\n    ('{url}')",
        "open_db('{url}')",
    ],
)
def test_callers_in_every_spelling_decide_the_parameter(tmp_path: Path, call: str) -> None:
    imported = "connect_to as open_db" if "open_db" in call else "connect_to"
    files = {
        "app/db.py": "import psycopg\ndef connect_to(url):\n    return psycopg.connect(url)\n",
        "app/main.py": f"from app.db import {imported}\n"
        + call.format(url="postgresql://db.internal/app?sslmode=disable")
        + "\n",
        "app/__init__.py": "",
    }
    findings = scan_shape(tmp_path, files).report.findings
    assert [f.rule_id for f in findings if f.rule_id.startswith("VF1")] == ["VF101"]


@pytest.mark.parametrize("text", [b"name" + b"#" * 40_000, b"name" + b" \\\n" * 40_000])
def test_the_text_test_ends_on_hostile_text(text: bytes) -> None:
    # A comment alternative without its line end split `###...` every way: 60 `#` ran
    # past any deadline; the watchdog interrupts the regex engine (it checks signals).
    with watchdog(HANG_SECONDS):
        assert may_call("name").search(text) is None
