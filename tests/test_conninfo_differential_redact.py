"""The per-driver readers keep secrets out of every rendering (issue 14 added asyncpg's own
reader and the unreadable-connection finding: both must stay redacted)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_draws import hermetic_draws  # noqa: F401 - the fixture, shared
from verifyfull.conninfo import ConnStringError, evaluate, from_asyncpg_kwargs, unreadable

# The same draws wherever the file runs (test_conninfo_draws.fixed_draws).
pytestmark = pytest.mark.usefixtures("hermetic_draws")
CANARY = "Cnry7q"
# A password around the canary with the characters that move asyncpg's and libpq's splits
# inside the user info ('/', '?' and '#' end it for every reader: the rest is no password).
around = st.text(alphabet="@:%&=+ ", max_size=3)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(around, around, st.booleans(), st.sampled_from(["password", "sslpassword"]))
def test_asyncpg_reading_never_shows_a_secret(
    before: str, after: str, encode: bool, where: str
) -> None:
    secret = before + CANARY + after
    # In the query a raw '&' or '=' splits the value for every reader: encode it there.
    written = quote(secret, safe="") if encode or where == "sslpassword" else secret
    if where == "password":
        dsn = f"postgresql://app:{written}@db/app?sslmode=require&sslrootcert=a+b.crt"
    else:
        dsn = f"postgresql://app@db/app?sslmode=require&sslpassword={written}&sslrootcert=a+b.crt"
    try:
        info = from_asyncpg_kwargs({"dsn": dsn})
    except ConnStringError as exc:
        assert CANARY not in str(exc)
        assert CANARY not in json.dumps(unreadable(exc, "***").to_json())
        return
    verdict = evaluate(info, "asyncpg")
    shown = [
        str(info),
        repr(info),
        verdict.corrected,
        *verdict.notes,
        json.dumps(verdict.to_json()),
    ]
    assert not [text for text in shown if CANARY in text]
