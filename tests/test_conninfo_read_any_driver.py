"""A +driver URL met without its call (a config value, `explain` without --driver) is read
as SQLAlchemy reads it, the reading the differential tests hold against SQLAlchemy itself.

libpq's reading of `postgresql+psycopg://u@h1,h2/db` writes port=',' (5432 each) where
the dialect passes host='h1,h2' and libpq then reads PGPORT: the scanner and `explain`
named the driver sqlalchemy+psycopg but dialled libpq's endpoints.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_differential import _SETTINGS, SA_FORMS, batch, url_case
from verifyfull.conninfo import ConnStringError, Environment
from verifyfull.conninfo.effective import effective
from verifyfull.conninfo.parse import from_sqlalchemy_url, read_any_driver

_SCHEMES = sorted({scheme for scheme, _ in SA_FORMS.values() if "+" in scheme})


@settings(_SETTINGS, max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_a_driver_url_is_read_as_sqlalchemy_reads_it(seed: int) -> None:
    for text, _variables in batch(seed, 25, url_case):
        for scheme in _SCHEMES:
            url = scheme + text[text.index("://") :]
            try:
                expected = from_sqlalchemy_url(url)
            except ConnStringError:
                continue  # make_url refuses it: libpq's reading says what it holds
            info, driver = read_any_driver(url)
            assert (info, driver) == (expected, "sqlalchemy"), url


def test_a_netloc_host_list_reads_pgport_as_the_dialect_hands_it_to_libpq() -> None:
    env = Environment.of({"PGPORT": "6000"})
    info, driver = read_any_driver("postgresql+psycopg://u@h1.invalid,h2.invalid/db")
    ports = {h.port for h in effective(info, driver, env).endpoints}
    assert ports == {6000}
