"""The caller's code location, cached per call site, is the one a fresh walk of the frames gives.

runtime.caller keeps, per code object, whether its frames are plumbing, and
per (code, instruction offset, cwd) the location's text (session 9: the walk
cost about 12 µs of every connect with the caches cold). The oracle is the
uncached walk (module names read from each frame's globals, f_lineno decoded
every time). Generated: sequences of call sites (several lines of one
function, each reached directly or through a plumbing frame) and working
directories, so a cache keyed too coarsely (on the code alone, or not on the
cwd) serves one site's answer for another.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.runtime import caller
from verifyfull.runtime.caller import UNKNOWN, caller_location

HERE = os.path.dirname(os.path.abspath(__file__))
CWDS = [os.path.dirname(HERE), HERE, os.sep]


def _oracle(skip: int, cwd: str) -> str:
    """The uncached walk (caller.py before session 9)."""
    frame = sys._getframe(skip)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not caller._plumbing(module):
            where = caller._relative(frame.f_code.co_filename, cwd)
            return f"{where}:{frame.f_lineno}"
        if (module, frame.f_code.co_name) in caller._TASK_STARTS:
            break
        frame = frame.f_back  # type: ignore[assignment]
    return UNKNOWN


def _both(cwd: str) -> tuple[str, str]:
    """Both answers for the frame that called this function's caller (one line, one site)."""
    return caller_location(skip=2, cwd=cwd), _oracle(2, cwd)


# A function that looks like a driver's (its globals name a plumbing module), calling
# back: the location must skip it and name the test's line that called it. Its own
# code object (another file name), run with a plumbing module's globals.
def _template(call: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    return call()


_through = types.FunctionType(
    _template.__code__.replace(co_filename="/site-packages/sqlalchemy/engine/fake.py"),
    {"__name__": "sqlalchemy.engine.fake"},
)


def _site(index: int, cwd: str, plumbed: bool) -> tuple[str, str]:
    """Call the pair from one of several lines of this function, directly or through the
    plumbing frame."""
    if plumbed:  # partial: no frame of its own, so _both's caller is the plumbing frame
        if index == 0:
            return _through(functools.partial(_both, cwd))
        if index == 1:
            return _through(functools.partial(_both, cwd))
        return _through(functools.partial(_both, cwd))
    if index == 0:
        return _both(cwd)
    if index == 1:
        return _both(cwd)
    return _both(cwd)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(CWDS), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_the_cached_location_is_the_fresh_walks(calls: list[tuple[int, str, bool]]) -> None:
    caller._KINDS.clear()
    caller._LOCATIONS.clear()
    seen: set[str] = set()
    for index, cwd, plumbed in calls:
        cached, fresh = _site(index, cwd, plumbed)
        assert cached == fresh
        assert "fake.py" not in cached  # the plumbing frame is never named
        seen.add(cached)
    distinct_sites = {(i, c, p) for i, c, p in calls}
    assert len(seen) <= len(distinct_sites)


def test_the_caches_are_bounded() -> None:
    caller._KINDS.clear()
    caller._LOCATIONS.clear()
    for _ in range(3):
        for cwd in CWDS:
            _site(0, cwd, False)
    assert len(caller._LOCATIONS) == len(CWDS)
    assert len(caller._KINDS) <= caller._MAX_ENTRIES
