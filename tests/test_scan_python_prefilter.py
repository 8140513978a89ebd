"""The prefilter's password-word search answers exactly as the plain regex search.

check._matches_at_password_word tries the patterns only at the start of words holding
"pass"/"pwd" (for speed); it must never answer differently from `pattern.search`, or a
file with a hard-coded password would not be parsed. Seeded random texts built from
the fragments that matter (names, separators, quotes, annotations, decoders, Unicode
word characters) plus every Python fixture compare the two.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from verifyfull.scan.python import check

FRAGMENTS = (
    *("password", "PASSWORD", "db_password", "passwd", "pwd", "db_pwd", "my_pass", "pass_"),
    *("Passwort", "pässword", "x_pass", "pass", "bypass", "compass", "_pwd_", "pwdx"),
    *(" ", "  ", "\n", "\t", "=", ":", ",", ": str =", ": Optional[str] =", "'", '"', "b'"),
    *('f"', "r'", "x", "1", "é", "_", "(", ")", "base64.b64decode(", "bytes.fromhex("),
    *("codecs.decode(", "unhexlify(", "#", "\\", "{", "}", "secret", "DB_"),
)
PATTERNS = (check._PASSWORD_LITERAL, check._PASSWORD_DECODED)
FIXTURES = Path(__file__).parent / "fixtures"


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 40)))


@pytest.mark.parametrize("seed", range(4))
def test_word_anchored_search_agrees_with_regex_search(seed: int) -> None:
    rng = random.Random(seed)
    found = 0
    for _ in range(5000):
        text = _random_text(rng)
        for pattern in PATTERNS:
            expected = pattern.search(text) is not None
            assert check._matches_at_password_word(pattern, text) is expected, (pattern, text)
            found += expected
    assert found > 100  # the generator does produce matching texts


def test_word_anchored_search_agrees_on_every_python_fixture() -> None:
    sources = [p.read_text(encoding="utf-8", errors="replace") for p in FIXTURES.rglob("*.py")]
    assert sources
    for text in sources:
        for pattern in PATTERNS:
            assert check._matches_at_password_word(pattern, text) is (
                pattern.search(text) is not None
            )
