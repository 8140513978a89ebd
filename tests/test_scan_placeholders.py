"""The shared placeholder predicate (scan/placeholders.py): generated spellings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifyfull.scan.placeholders import LOCALISED, REPLACE_ME, is_placeholder

SEPARATORS = st.sampled_from(["_", "-", ".", " ", ""])
WORD = st.from_regex(r"[a-z]{2,8}", fullmatch=True)


def _spell(words: list[str], separator: str, upper: list[bool]) -> str:
    return separator.join(w.upper() if u else w for w, u in zip(words, upper, strict=False))


@given(
    marker=st.sampled_from(REPLACE_ME),
    before=st.lists(WORD, max_size=2),
    after=st.lists(WORD, max_size=2),
    separator=SEPARATORS,
    upper=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_a_replace_me_marker_anywhere_is_a_placeholder(
    marker: str, before: list[str], after: list[str], separator: str, upper: list[bool]
) -> None:
    value = _spell([*before, marker, *after], separator, upper)
    assert is_placeholder("DB_PASSWORD", value), value


@given(key=st.lists(WORD, min_size=1, max_size=3), separator=SEPARATORS, upper=st.booleans())
def test_a_value_equal_to_its_key_is_a_placeholder(
    key: list[str], separator: str, upper: bool
) -> None:
    name = "_".join(key).upper()
    value = separator.join(key)
    assert is_placeholder(name, value.upper() if upper else value)
    assert is_placeholder(f"app.db.{name}", value)


@given(rest=st.lists(WORD, min_size=1, max_size=3), separator=SEPARATORS)
def test_your_anything_is_a_placeholder(rest: list[str], separator: str) -> None:
    assert is_placeholder(
        "password", separator.join(["your", *rest]) if separator else "your_" + "".join(rest)
    )


@given(word=st.sampled_from(sorted(LOCALISED)))
def test_localised_words_are_placeholders(word: str) -> None:
    assert is_placeholder("password", word)


@given(
    secret=st.from_regex(r"[A-Z][a-z]{3,6}[0-9]{2,4}[!#%]?[a-z]{0,4}", fullmatch=True),
    key=st.sampled_from(["password", "DB_PASSWORD", "PGPASSWORD", "pw"]),
)
def test_a_real_looking_password_is_not_a_placeholder(secret: str, key: str) -> None:
    if any(marker in secret.lower() for marker in REPLACE_ME) or secret.lower().startswith("your"):
        return
    assert not is_placeholder(key, secret), secret


def test_references_and_real_words() -> None:
    for value in ("${DB_PASSWORD}", "$PW", "{{ pw }}", "%(password)s", "<password>", "***", "xxxx"):
        assert is_placeholder("password", value), value
    for value in ("postgres", "secret", "admin", "hunter2"):
        assert not is_placeholder("DB_PASSWORD", value), value
    assert not is_placeholder("DB_PASSWORD", "password")  # a real word for a longer key
