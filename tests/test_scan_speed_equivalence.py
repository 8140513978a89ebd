"""The scan's speed-ups change no answer (issue 12, speed): each faster form of a test
is checked against the slower form it replaced, on generated texts.

- prefilter.sites_possible matches its call patterns where str.find puts a driver root
  or an imported alias, instead of searching the whole file with the patterns; the
  answers must be those of the searches (the searches are kept here as the reference).
- The engine finds every check's keywords and needles (and the suppression marker) in
  one pass over a file's bytes (SourceFile.words) instead of searching the text once
  per word: for every word, "found in the pass" must be "in the decoded text", in
  every encoding a file may declare (or the pass is not used for that file).
- module._call_index walks a module's tree without ast.iter_child_nodes' generators:
  same calls, scopes and order as the walk it replaced, on every module at hand.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine, suppress
from verifyfull.scan.python import module, prefilter
from verifyfull.scan.python.module import Scope
from verifyfull.scan.walk import WalkedFile

# The whole-file searches sites_possible made before (session 5), the reference.
_REFERENCE_ROOT_CALL = re.compile(
    rf"\b(?:{'|'.join(prefilter.SITE_ROOTS)})(?:[\s\\]*\.[\s\\]*\w+)*?[\s\\]*\.[\s\\]*"
    rf"(?:{'|'.join(prefilter.SITE_FUNCTIONS)})[\s\\]*\("
)


def _reference_chains(code: str, name: str) -> list[str]:
    return [
        call.group(1)
        for call in re.finditer(rf"\b{re.escape(name)}\b{prefilter._CHAIN_THEN_CALL}", code)
    ]


def _reference_root_call(code: str) -> bool:
    return _REFERENCE_ROOT_CALL.search(code) is not None


def _root_call(code: str) -> bool:
    return any(
        prefilter._AFTER_ROOT.match(code, at + len(root))
        for root in prefilter.SITE_ROOTS
        for at, _ in prefilter._whole_word_at(code, root)
    )


# Pieces that make and break calls: roots and functions (and words that extend them),
# links, joins, parentheses, Unicode word characters either side of a name.
_PIECES = st.sampled_from(
    (
        *prefilter.SITE_ROOTS,
        *prefilter.SITE_FUNCTIONS,
        *(f"{root}." for root in prefilter.SITE_ROOTS),
        *(f".{function}(" for function in prefilter.SITE_FUNCTIONS),
        *("db", "pg", "x", "_", "2", "é", "ß", "·", "٣"),
        *(".", " . ", "\\\n", "\n", " ", "\t", "(", ")", "((", ") (", "=", ",", "as "),
    )
)
_CODE = st.lists(_PIECES, max_size=14).map("".join)
_NAMES = st.sampled_from(("db", "pg", "x", "connect", "asyncpg", "é", "db2", "a.b", "x)", ""))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_CODE)
def test_root_calls_matched_at_written_roots_are_the_searched_ones(code: str) -> None:
    assert _root_call(code) == _reference_root_call(code)


@st.composite
def _code_around_a_name(draw: st.DrawFn) -> tuple[str, str]:
    """Code made mostly of one name and the links between its uses (`db.db(`: a call
    chain that holds the name again, which finditer does not look inside)."""
    name = draw(_NAMES)
    pieces = st.sampled_from(
        (name, f"{name}.", f".{name}", f"{name}(", f".{name}(", "(", ")", " ", ".", "\\\n", "é")
    )
    return draw(st.lists(pieces, max_size=12).map("".join)), name


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.one_of(st.tuples(_CODE, _NAMES), _code_around_a_name()))
def test_alias_chains_matched_at_written_names_are_finditers(case: tuple[str, str]) -> None:
    code, name = case
    if not name:  # re.finditer(r"\b\b...") is not a call of any name
        return
    assert list(prefilter._chains_called(code, name)) == _reference_chains(code, name)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(_CODE, st.sampled_from(("connect", "create_engine", "init", "make", "pg")))
def test_sites_possible_on_generated_code_with_imports(code: str, alias: str) -> None:
    """The whole test, imports included, against the reference searches."""
    text = f"from psycopg import connect as {alias}\n{code}"

    def reference(text: str) -> bool:
        if not any(next(prefilter._whole_word_at(text, r), None) for r in prefilter.SITE_ROOTS):
            return False
        if _reference_root_call(text):
            return True
        for method, (root, _) in prefilter.METHOD_SITES.items():  # `df.to_sql(`
            if next(prefilter._whole_word_at(text, root), None) and (
                prefilter._called_or_renamed(text, method)
            ):
                return True
        aliases = prefilter._driver_aliases(text)
        if aliases is None:
            return any(
                prefilter._called_or_renamed(text, n) for n in prefilter.SITE_FUNCTIONS if n in text
            )
        for name, original in aliases.items():
            for chain in _reference_chains(text, name):
                last = chain.rsplit(".", 1)[-1].strip(" \t\n\\") if chain else original
                if last in prefilter.SITE_FUNCTIONS:
                    return True
        return False

    assert prefilter.sites_possible(text) == reference(text)


# Text pieces: every registered word of a Python file, cut and joined so that a word
# is made, broken or spread over a multi-byte character; non-ASCII letters.
_PY_CHECKS = engine.checks_for("module.py")
_PY_WORDS = sorted({w for check in _PY_CHECKS for w in (*check.keywords, *check.needles)})
_TEXT_PIECES = st.sampled_from(
    (
        *_PY_WORDS,
        *(word[: len(word) // 2] for word in _PY_WORDS),
        *(word[len(word) // 2 :] for word in _PY_WORDS),
        *(
            suppress.MARKER,
            "# verifyfull: ignore[VF101] reason\n",
            "\n",
            " ",
            "=",
            "(",
            "é",
            "日本",
        ),
        *("\u30fb", "\\", "~", "+AGE-"),
    )
)
# What a file may declare (PEP 263) or start with: the pass is exact for UTF-8, and the
# others must fall back to searching the text (Shift-JIS and UTF-7 put ASCII bytes in
# multi-byte characters).
_HEADS = st.sampled_from(
    (
        "",
        "# -*- coding: utf-8 -*-\n",
        "# coding: latin-1\n",
        "# coding=cp1252\n",
        "# vim: set fileencoding=shift_jis :\n",
        "# coding: utf-7\n",
        "\ufeff",
    )
)


def _encoded(head: str, body: str) -> bytes | None:
    encoding = {"latin-1": "latin-1", "cp1252": "cp1252", "shift_jis": "shift_jis"}
    name = next((e for e in (*encoding, "utf-7") if e in head), "utf-8")
    try:
        return (head + body).encode(encoding.get(name, name))
    except UnicodeEncodeError:
        return None


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(_HEADS, st.lists(_TEXT_PIECES, max_size=20).map("".join))
def test_words_found_in_one_pass_are_the_words_in_the_text(
    tmp_path: Path, head: str, body: str
) -> None:
    data = _encoded(head, body)
    if data is None:
        return
    path = tmp_path / "module.py"
    path.write_bytes(data)
    source, _error = engine._read(WalkedFile(path, "module.py", len(data)), _PY_CHECKS, 10**6)
    if source is None or source.words is None:
        return  # not decoded (an error entry), or not by the pass: the text is searched
    for word in (*_PY_WORDS, suppress.MARKER):
        assert (word in source.words) == (word in source.text), word
    for check in _PY_CHECKS:
        assert source.holds_any(check.keywords) == any(w in source.text for w in check.keywords)
    assert engine._suppressions(source) == suppress.parse(source.text)


def test_a_shift_jis_file_is_searched_as_text_not_by_bytes(tmp_path: Path) -> None:
    """Shift-JIS puts ASCII bytes in its two-byte characters: "ケW" is b"\\x83PW", whose
    bytes hold the needle "PW" that the text does not; the pass must not stand for it."""
    path = tmp_path / "module.py"
    data = "# coding: shift_jis\nx = '\u30b1W'\n".encode("shift_jis")
    assert b"PW" in data and "PW" in prefilter.NEEDLES
    path.write_bytes(data)
    source, _ = engine._read(WalkedFile(path, "module.py", len(data)), _PY_CHECKS, 10**6)
    assert source is not None and source.words is None
    utf8 = tmp_path / "plain.py"
    utf8.write_bytes(b"import subprocess\n")
    plain, _ = engine._read(WalkedFile(utf8, "plain.py", 18), _PY_CHECKS, 10**6)
    assert plain is not None and plain.words is not None and "subprocess" in plain.words


def _reference_call_index(
    tree: ast.Module, scopes: dict[int, Scope]
) -> dict[str, list[tuple[ast.Call, Scope]]]:
    """module._call_index's walk as session 5 wrote it (ast.iter_child_nodes)."""
    index: dict[str, list[tuple[ast.Call, Scope]]] = {}
    stack: list[tuple[ast.AST, Scope]] = [(tree, scopes[id(tree)])]
    while stack:
        node, scope = stack.pop()
        scope = scopes.get(id(node), scope)
        if isinstance(node, ast.Call):
            module._index_call(index, node, scope)
        stack.extend((child, scope) for child in ast.iter_child_nodes(node))
    for calls in index.values():
        calls.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
    return index


_REPO = Path(__file__).resolve().parent.parent
_MODULES = sorted((*(_REPO / "src").rglob("*.py"), *(_REPO / "tests" / "fixtures").rglob("*.py")))
# Calls at one place (`f(x)(y)`, decorators, nested lambdas and comprehensions) whose
# order only the walk's order decides.
_SAME_PLACE = """
def outer(a):
    f(a)(g(a))(h(a))
    return [f(y)(y) for y in (lambda z: g(z)(z))(a)]

@deco(f(1))(g(2))
class K:
    def m(self):
        self.m()(self.n(f(self.m())))
"""


def test_the_call_index_is_the_reference_walks_on_every_module() -> None:
    """The faster walk of module._call_index gives the same calls, with the same
    scopes, in the same order, on every module of this project and its fixtures."""
    compared = 0
    for path in (*_MODULES, None):
        text = _SAME_PLACE if path is None else path.read_text(encoding="utf-8")
        try:
            parsed = module.parse_module(path or Path("same.py"), _REPO, text)
        except (SyntaxError, ValueError):
            continue  # a fixture that is deliberately not Python
        fast = module._call_index(parsed.tree, parsed.scopes)
        slow = _reference_call_index(parsed.tree, parsed.scopes)
        assert {k: [(id(c), id(s)) for c, s in v] for k, v in fast.items()} == {
            k: [(id(c), id(s)) for c, s in v] for k, v in slow.items()
        }, path
        compared += 1
    assert compared > 100
