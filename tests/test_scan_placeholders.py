"""The shared placeholder predicate (scan/placeholders.py): generated spellings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.envfile import judge_env_file
from verifyfull.scan.placeholders import (
    DESCRIBING,
    LOCALISED,
    PLACEHOLDER_VALUES,
    REPLACE_ME,
    ROLE_WORDS,
    is_placeholder,
)

SEPARATORS = st.sampled_from(["_", "-", ".", " ", ""])
_LOCALISED_FOLDED = frozenset(re.sub(r"[^a-z0-9]", "", word.casefold()) for word in LOCALISED)
WORD = st.from_regex(r"[a-z]{2,8}", fullmatch=True)


def _spell(words: list[str], separator: str, upper: list[bool]) -> str:
    return separator.join(w.upper() if u else w for w, u in zip(words, upper, strict=False))


@settings(deadline=None)
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


@settings(deadline=None)
@given(key=st.lists(WORD, min_size=1, max_size=3), separator=SEPARATORS, upper=st.booleans())
def test_a_value_equal_to_its_key_is_a_placeholder(
    key: list[str], separator: str, upper: bool
) -> None:
    name = "_".join(key).upper()
    value = separator.join(key)
    assert is_placeholder(name, value.upper() if upper else value)
    assert is_placeholder(f"app.db.{name}", value)


@settings(deadline=None)
@given(rest=st.lists(WORD, min_size=1, max_size=3), separator=SEPARATORS)
def test_your_anything_is_a_placeholder(rest: list[str], separator: str) -> None:
    assert is_placeholder(
        "password", separator.join(["your", *rest]) if separator else "your_" + "".join(rest)
    )


@settings(deadline=None)
@given(word=st.sampled_from(sorted(LOCALISED)))
def test_localised_words_are_placeholders(word: str) -> None:
    assert is_placeholder("password", word)


@settings(deadline=None)
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
    # The key's role word read aloud (the lead's ruling, issue 12 item 9 / 13 item 8).
    for key, value in (
        ("DB_PASSWORD", "password"),
        ("PGPASSWORD", "PASSWORD"),
        ("DB_PASS", "pass"),
    ):
        assert is_placeholder(key, value), (key, value)
    assert not is_placeholder("DB_TOKEN", "password")  # not a password-named key


# --- values that describe a password, pointers, and what stays a password ----------------

_ROLE = st.sampled_from(sorted(ROLE_WORDS | {"secret"}))
_DESCRIBING = st.sampled_from(sorted(DESCRIBING))
_KEYS = st.sampled_from(["DB_PASSWORD", "PGPASSWORD", "POSTGRES_PASSWORD", "DB_PASS", "password"])
_APART = st.sampled_from(["_", "-", ".", " "])


@settings(deadline=None)
@given(
    before=st.lists(_DESCRIBING, max_size=3),
    role=_ROLE,
    after=st.lists(_DESCRIBING, max_size=2),
    separator=_APART,
    upper=st.lists(st.booleans(), min_size=6, max_size=6),
    key=_KEYS,
)
def test_describing_words_written_apart_are_a_placeholder(
    before: list[str], role: str, after: list[str], separator: str, upper: list[bool], key: str
) -> None:
    words = [*before, role, *after]
    if len(words) < 2:
        words = ["my", role]
    value = _spell(words, separator, upper)
    # in a file to copy and fill in: a placeholder (the .env.example's line: no VF401)
    assert is_placeholder(key, value), value
    assert _config_vf401(key, value, ".env.example") == set(), value
    # in a file used as written it is the password the database gets (held-out-s23's
    # `super-secret-password` in SEED's compose), unless a rule for every file holds
    folded = "".join(w.casefold() for w in words)

    def everywhere(name: str) -> bool:  # `your …`, or the value names its key
        return words[0] == "your" or folded == name.casefold().replace("_", "")

    assert is_placeholder(key, value, example=False) is everywhere(key), value
    assert (_config_vf401(key, value) == set()) is everywhere(_env_name(key)), value


@settings(deadline=None)
@given(
    prose=st.lists(WORD, min_size=1, max_size=4),
    arrow=st.sampled_from(["-->", "--->", "->", "=>", "→"]),
    key=_KEYS,
)
def test_prose_pointing_elsewhere_is_a_placeholder(prose: list[str], arrow: str, key: str) -> None:
    assert is_placeholder(key, f"{arrow} {' '.join(prose)}")
    assert is_placeholder(key, f"{' '.join(prose)} {arrow} group_vars/all.yml")


# Ordinary words that are neither describing nor replace-me words.
_DICTIONARY = st.sampled_from(
    ["dragon", "sunshine", "monkey", "shadow", "summer", "harbor", "violet", "tractor", "pycon"]
)


@settings(deadline=None)
@given(
    secret=st.one_of(
        st.text(
            alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
            min_size=8,
            max_size=24,
        ),
        st.builds(lambda w, d: w + d, _DICTIONARY, st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
        # describing words run together: a password someone typed (`dbpass`, `pgpassword`)
        st.builds(lambda a, r: a + r, _DESCRIBING.filter(lambda w: w not in ("my", "your")), _ROLE),
    ),
    key=_KEYS,
)
def test_generated_real_looking_passwords_are_vf401(secret: str, key: str) -> None:
    folded = secret.casefold()
    if any(m in folded for m in REPLACE_ME) or folded.startswith("your"):
        return  # a replace-me marker spelled out by chance
    if folded in PLACEHOLDER_VALUES or folded.endswith("here") or len(set(folded)) == 1:
        return  # a listed word (`UNDEFiNED`), or one repeated character (`xxxxxxxx`)
    if folded in _LOCALISED_FOLDED:
        # a localised "password" (`WACHTWooRD`): Hypothesis also draws the string
        # constants of the code under test, so the listed words come up by design
        return
    # `password` is written DB_PASSWORD in the .env check below: both are the key's name.
    names = {re.sub(r"[^a-z0-9]", "", name.casefold()) for name in (key, _env_name(key))}
    if re.sub(r"[^a-z0-9]", "", folded) in names:
        return  # the key's own name drawn by chance (`PGPASSWoRD`): a placeholder by rule
    assert not is_placeholder(key, secret), secret
    assert _config_vf401(key, secret) == {"VF401"}, secret


def _env_name(key: str) -> str:
    """The env-file name the config check is given for `key` (a bare PASSWORD names no
    database, so the line is written as DB_PASSWORD)."""
    return key if key.upper() != "PASSWORD" else "DB_PASSWORD"


def _config_vf401(key: str, value: str, file: str = ".env") -> set[str]:
    """The rules a `.env` line KEY=value gets from the config judge (where VF401 lives)."""
    name = _env_name(key)
    src = SourceFile(Path(f"/x/{file}"), file, f"{name}={_quoted(value)}\n")
    return {f.rule_id for f in judge_env_file(src, DEFAULT_POLICY)} & {"VF401"}


def _quoted(value: str) -> str:
    return "'" + value + "'" if any(c.isspace() or c in "#'\"" for c in value) else value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DB_PASS", "mypassword"),  # Amfishka/bitbucket app/config.py:5
        ("PGPASSWORD", "password"),  # Himchenhim/template_tg_bot .env:4
        ("PGPASSWORD", "example"),  # gavrilka/TelegramBot .env.dist:7
        ("DB_PASSWORD", "secure-db-password"),  # agavris/scheduler-webapp .env.example:16
        ("database_password", "---> ver na pasta ansible/group_vars"),  # tainanjose variables.tf
        ("password", "postgres-password"),  # Bllyth/lms .env:1, a DSN's userinfo
    ],
)
def test_the_held_out_placeholders(key: str, value: str) -> None:
    assert is_placeholder(key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [("password", "dbpass"), ("postgresPassword", "pgpassword"), ("DBPASSWORD", "mydbpassword")],
)
def test_describing_words_run_together_stay_passwords(key: str, value: str) -> None:
    # vasilis7span/fastapi-starter-project values.yaml:118,124, hademircii simulator.service
    assert not is_placeholder(key, value)
