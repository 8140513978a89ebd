"""The scan's speed-ups change no answer (issue 12, speed): each faster form of a test
is checked against the slower form it replaced, on generated texts.

- prefilter.sites_possible matches its call patterns where str.find puts a driver root
  or an imported alias, instead of searching the whole file with the patterns; the
  answers must be those of the searches (the searches are kept here as the reference).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.scan.python import prefilter

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
