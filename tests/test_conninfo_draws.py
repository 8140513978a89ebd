"""The differential tests' draws are the same wherever they run (issue 14).

Hypothesis (6.13x+) mixes into its draws the literals of every local module in
sys.modules (providers._get_local_constants: strings of up to 20 characters,
numbers of 100 and more). A whole-suite run (CI) has imported more of src/ than
one test file has, and an edit anywhere in src/ changes the pool, so the same
derandomized differential test drew other inputs in CI than locally (13 cases
of the kwargs differential's DSN ?port= class in one CI run, none locally).
fixed_draws gives the generators no local constants: the draws then depend on
the strategies and the seed only. The drivers' environment is fixed apart
(test_conninfo_differential.driver_environment).
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants


@contextmanager
def fixed_draws() -> Iterator[None]:
    """No local constants in hypothesis' draws while inside (see the module's doc)."""
    with mock.patch.object(providers, "_get_local_constants", Constants):
        providers.CONSTANTS_CACHE.cache.clear()  # pools cached by an earlier draw
        try:
            yield
        finally:
            providers.CONSTANTS_CACHE.cache.clear()


T = TypeVar("T")
SEEDS = st.integers(0, 2**64 - 1)


def seeded(grammar: Callable[..., T], *args: Any, **kwargs: Any) -> st.SearchStrategy[T]:
    """A grammar written on random.Random as a hypothesis strategy: hypothesis draws one
    seed, the grammar makes every other choice. Drawing each choice through hypothesis
    cost more than the drivers' comparison itself (1.6 ms a keyword case, 3.4 of the
    service test's 8.3 s); a seed is one draw, and the grammar's choices are plain
    random calls (microseconds)."""
    return SEEDS.map(lambda seed: grammar(random.Random(seed), *args, **kwargs))


def batch(seed: int, size: int, grammar: Callable[[random.Random], T]) -> list[T]:
    """size inputs from one drawn seed (the differential tests draw a seed per batch)."""
    rng = random.Random(seed)
    return [grammar(rng) for _ in range(size)]


@pytest.fixture(scope="module")
def hermetic_draws() -> Iterator[None]:
    """fixed_draws for the @given tests of a module (module-scoped: hypothesis refuses
    function-scoped fixtures around @given)."""
    with fixed_draws():
        yield


# Literals a project module could hold, of the kinds the grammars draw: short words,
# ports, a 64-bit seed's range.
_LITERALS = """
NAMES = ("db", "host", "x1", "Require", "a_b", "pg-1", "sslmode", "5432")
PORTS = (5432, 26257, 65536, 99999, 123456789)
"""


def _draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    from test_conninfo_differential import _SETTINGS  # the differential tests' settings

    drawn: list[Any] = []

    @settings(_SETTINGS, max_examples=count)
    @given(strategy)
    def run(value: Any) -> None:
        drawn.append(value)

    run()
    return drawn


def _grammars() -> st.SearchStrategy[Any]:
    # The differential tests' own grammars (imported late: they import this module).
    from test_conninfo_differential import environment, url_body
    from test_conninfo_differential_kwargs import connect_kwargs

    return st.tuples(connect_kwargs(), environment(), url_body(), st.integers(0, 2**64))


def test_draws_do_not_depend_on_the_modules_loaded(tmp_path: Path) -> None:
    """The same grammar draws the same inputs after a project module with new literals
    is imported (what a whole-suite run, or an edit in src/, does)."""
    pytest.importorskip("asyncpg")
    grammars = _grammars()
    with fixed_draws():
        before = _draw(grammars, 200)
    path = tmp_path / "vf_draws_literals.py"
    path.write_text(_LITERALS)
    spec = importlib.util.spec_from_file_location("vf_draws_literals", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["vf_draws_literals"] = module
    try:
        with fixed_draws():
            after = _draw(grammars, 200)
    finally:
        del sys.modules["vf_draws_literals"]
    assert before == after
