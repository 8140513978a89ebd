"""Generated passwords a test claims are real: none the placeholder rules read as a stand-in.

Hypothesis feeds string literals it finds in the code under test into text strategies
(`replaceme`, `changethis` from placeholders.py), so a random "real" password can hold
a stand-in marker. A test whose claim is "this is a real password, so VF401" must draw
through `real_password`, which asks the placeholder module itself, not a copy of its lists.
"""

from __future__ import annotations

from hypothesis import strategies as st

from verifyfull.scan.placeholders import is_placeholder


def is_real_password(value: str, key: str = "PASSWORD") -> bool:
    """Whether the scanner reads `value`, written for `key`, as a real secret."""
    return not is_placeholder(key, value)


def real_password(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`strategy`, keeping only values the placeholder rules read as real."""
    return strategy.filter(is_real_password)
