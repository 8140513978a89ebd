"""libpq's option checks (conninfo.libpq_options) against the real libpq, on generated inputs.

Each input writes a few of the options libpq checks before it dials
(require_auth, channel_binding, sslmode, sslnegotiation, sslrootcert=system, the
TLS and protocol version bounds, sslcertmode, gssencmode, target_session_attrs,
load_balance_hosts, the SCRAM keys) with values drawn from the valid ones, their
case variants, blanks, empties and junk, in a keyword string, a URL or the PG*
variables. The oracles:

    psycopg (libpq 18)   pq.PGconn.connect_start on a socket directory that does not
                         exist: libpq runs every option check, then fails to dial
                         ("No such file or directory"); any other message is a refusal.
    psycopg2 (libpq 17)  psycopg2.connect on the same socket: the same, at libpq 17
                         (options 18 added are not drawn for it).
    asyncpg 0.32         _parse_connect_dsn_and_args on the same options in a DSN: it
                         checks sslmode (an empty PGSSLMODE too), sslnegotiation,
                         target_session_attrs and the TLS bounds itself.

The model must refuse exactly what libpq refuses, with libpq's message, for the
socket host and for a TCP host (the checks do not depend on the host; the one that
does, gssencmode=require over a socket, is said where it is). Budget: CASES inputs
per form (VERIFYFULL_SLOW=1: ten times as many), derandomized.
"""

from __future__ import annotations

import base64
import inspect
import os
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from test_conninfo_budget import spent
from test_conninfo_draws import hermetic_draws  # noqa: F401 - the fixture, shared
from verifyfull.conninfo import Environment, evaluate, parse_dsn, parse_for_driver
from verifyfull.conninfo.libpq_options import OPTION_VARIABLES, option_refusal
from verifyfull.conninfo.model import HostPort

pq = pytest.importorskip("psycopg.pq")
psycopg2 = pytest.importorskip("psycopg2")
asyncpg_utils = pytest.importorskip("asyncpg.connect_utils")
# The same seeds wherever the file runs (test_conninfo_draws.fixed_draws).
pytestmark = pytest.mark.usefixtures("hermetic_draws")

SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"
CASES = int(os.environ.get("VERIFYFULL_OPTION_CASES", 5000 * (10 if SLOW else 1)))
BATCH = 250  # inputs per hypothesis example
SOCKET = "/vf-nosuch-options"
DIAL_FAILURE = "No such file or directory"
PSYCOPG2_LIBPQ = psycopg2.__libpq_version__ // 10000

_CHOICES = {
    "channel_binding": ["disable", "prefer", "require"],
    "sslmode": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
    "sslnegotiation": ["postgres", "direct"],
    "sslcertmode": ["disable", "allow", "require"],
    "gssencmode": ["disable", "prefer"],  # require: GSSAPI at dial time, not an option check
    "target_session_attrs": [
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ],
    "load_balance_hosts": ["disable", "random"],
    "ssl_min_protocol_version": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", ""],
    "ssl_max_protocol_version": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", ""],
    "min_protocol_version": ["3.0", "3.2", "latest"],
    "max_protocol_version": ["3.0", "3.2", "latest"],
    "sslrootcert": ["system", "ca.crt"],
}
_SINCE = {
    "require_auth": 16,
    "sslcertmode": 16,
    "load_balance_hosts": 16,
    "sslnegotiation": 17,
    "min_protocol_version": 18,
    "max_protocol_version": 18,
    "scram_client_key": 18,
    "scram_server_key": 18,
}
_ENV = {
    "channel_binding": "PGCHANNELBINDING",
    "sslmode": "PGSSLMODE",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcertmode": "PGSSLCERTMODE",
    "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "min_protocol_version": "PGMINPROTOCOLVERSION",
    "max_protocol_version": "PGMAXPROTOCOLVERSION",
    "require_auth": "PGREQUIREAUTH",
    "sslrootcert": "PGSSLROOTCERT",
}
_METHODS = ["password", "md5", "gss", "sspi", "scram-sha-256", "none", "oauth"]
KEYS = [*_CHOICES, "require_auth", "scram_client_key", "scram_server_key"]
TALLY: Counter[str] = Counter()

_JUNK = "abcXYZ019.-_!, "


def option_value(rng: random.Random, key: str) -> str:
    if key == "require_auth":
        items = [
            rng.choice(["", "!", "!!"]) + rng.choice([*_METHODS, ""])
            for _ in range(rng.randint(1, 3))
        ]
        return ",".join(items)
    if key.startswith("scram_"):
        size = rng.choice([32, 32, 0, 3, 31, 33])
        text = base64.b64encode(rng.randbytes(size)).decode()
        return rng.choice([text, text, text.rstrip("="), text + "*", "x"])
    valid = rng.choice(_CHOICES[key])
    junk = "".join(rng.choice(_JUNK) for _ in range(rng.randint(0, 6)))
    return rng.choice([valid, valid, valid, valid.upper(), valid.title(), "", f"{valid}x", junk])


def case(rng: random.Random, libpq_major: int) -> tuple[dict[str, str], dict[str, str]]:
    """(options written, PG* variables) for one input."""
    keys = [k for k in KEYS if _SINCE.get(k, 0) <= libpq_major]
    written = {key: option_value(rng, key) for key in rng.choices(keys, k=rng.randint(1, 4))}
    with_env = [k for k in keys if k in _ENV]
    env = {_ENV[key]: option_value(rng, key) for key in rng.choices(with_env, k=rng.randint(0, 2))}
    if rng.random() < 0.1:
        env["PGREQUIRESSL"] = rng.choice(["1", "0", ""])  # still sets libpq's default mode
    return written, env


def cases(seed: int, libpq_major: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """BATCH inputs from one seed (hypothesis draws the seed: drawing every choice
    through hypothesis costs more than the comparison itself)."""
    rng = random.Random(seed)
    return [case(rng, libpq_major) for _ in range(BATCH)]


def keyword_string(written: dict[str, str], host: str) -> str:
    def quoted(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join([f"host={quoted(host)}", *(f"{k}={quoted(v)}" for k, v in written.items())])


def url_string(written: dict[str, str], host: str) -> str:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in written.items())
    return f"postgresql://{quote(host, safe='')}/app?{query}"


@contextmanager
def variables(env: dict[str, str]) -> Iterator[None]:
    """The PG* variables libpq reads at connect (only these, restored after)."""
    names = {*OPTION_VARIABLES, "PGSSLMODE", "PGREQUIRESSL", "PGSSLROOTCERT", "HOME", *env}
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ.update(env)
    os.environ.setdefault("HOME", saved["HOME"] or "/nonexistent")
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def libpq18_refusal(conninfo: str) -> str | None:
    conn = pq.PGconn.connect_start(conninfo.encode())
    try:
        message = conn.error_message.decode(errors="replace").strip()
    finally:
        conn.finish()
    return None if DIAL_FAILURE in message else message.splitlines()[0]


def libpq17_refusal(conninfo: str) -> str | None:
    try:
        psycopg2.connect(conninfo).close()
    except psycopg2.OperationalError as exc:
        message = str(exc).strip()
        return None if DIAL_FAILURE in message else message.splitlines()[0]
    raise AssertionError("a socket that does not exist accepted a connection")


def corrected(text: str) -> str | None:
    """The corrected form explain offers for text (psycopg), on the socket host so
    libpq checks it without dialling; None when none is offered."""
    form = evaluate(parse_dsn(text), "psycopg", Environment.empty()).corrected
    if not form:
        return None
    return replace(parse_dsn(form), hosts=(HostPort(SOCKET),)).to_keywords()


def model_refusal(text: str, env: dict[str, str]) -> str | None:
    verdict = evaluate(parse_dsn(text), "psycopg", Environment.of(env))
    breaks = verdict.breaks or ""
    if not breaks or "root certificate file" in breaks:  # a dial-time failure
        return None
    return breaks.removeprefix("psycopg.OperationalError: ")


_SETTINGS = settings(
    max_examples=max(1, -(-CASES // BATCH)),
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # a failing batch is reported as drawn (its seed), not shrunk
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(st.integers(0, 2**64))
def test_option_checks_agree_with_libpq_18(seed: int) -> None:
    for index, (written, env) in enumerate(cases(seed, 18)):
        with variables(env):
            real = libpq18_refusal(keyword_string(written, SOCKET))
        # Each form is read once per case, on the socket host or a TCP host in turn.
        hosts = (SOCKET, "db.invalid") if index % 2 else ("db.invalid", SOCKET)
        for (form, build), host in zip(
            (("keywords", keyword_string), ("url", url_string)), hosts, strict=True
        ):
            text = build(written, host)
            model = model_refusal(text, env)
            over_tcp = host != SOCKET
            expected = None if (real and "local socket" in real and over_tcp) else real
            assert model == expected, (form, text, env, real, model)
            TALLY[f"libpq18 {form}"] += 1
            fixed = corrected(text)
            if fixed is not None:
                with variables({}):
                    after = libpq18_refusal(fixed)
                assert after is None, ("corrected form refused", text, fixed, after)
                TALLY["corrected checked"] += 1
        TALLY["refused" if real else "accepted"] += 1


@_SETTINGS
@given(st.integers(0, 2**64))
def test_option_checks_agree_with_psycopg2s_libpq(seed: int) -> None:
    for written, env in cases(seed, PSYCOPG2_LIBPQ):
        with variables(env):
            real = libpq17_refusal(keyword_string(written, SOCKET))
        refusal = option_refusal(written, Environment.of(env), libpq_major=PSYCOPG2_LIBPQ)
        model = refusal.message if refusal else None
        assert model == real, (written, env, real, model)
        TALLY[f"libpq{PSYCOPG2_LIBPQ}"] += 1


_ASYNCPG_ARGS = dict.fromkeys(
    inspect.signature(asyncpg_utils._parse_connect_dsn_and_args).parameters
)
# Failures the model predicts past asyncpg's parser: resolving the host, the server
# refusing a setting asyncpg passes on as a server setting (channel_binding, ...).
_ASYNCPG_DIAL_TIME = ("socket.gaierror", "CantChangeRuntimeParamError", "UndefinedObjectError")


def asyncpg_refusal(url: str) -> str | None:
    try:
        asyncpg_utils._parse_connect_dsn_and_args(**{**_ASYNCPG_ARGS, "dsn": url})
    except Exception as exc:  # ClientConfigurationError, ValueError, ...
        return type(exc).__name__
    return None


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@_SETTINGS
@given(seed=st.integers(0, 2**64))
def test_asyncpg_refuses_what_the_model_predicts(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    """The same options in an asyncpg DSN: asyncpg validates sslmode, sslnegotiation,
    target_session_attrs and the TLS bounds (ssl.TLSVersion names) itself and passes the
    rest to the server. No root file is named (asyncpg opens it while parsing: a
    deliberate difference, docs/conninfo.md) and HOME holds none."""
    home = tmp_path_factory.mktemp("home")
    for written, env in cases(seed, 18):
        written.pop("sslrootcert", None)
        env.pop("PGSSLROOTCERT", None)
        url = url_string(written, "db.invalid")
        with variables({**env, "HOME": str(home)}):
            real = asyncpg_refusal(url)
        breaks = evaluate(parse_for_driver(url, "asyncpg"), "asyncpg", Environment.of(env)).breaks
        dial_time = breaks is not None and any(m in breaks for m in _ASYNCPG_DIAL_TIME)
        model = None if not breaks or dial_time else breaks.split(":")[0].rsplit(".", 1)[-1]
        assert model == real, (url, env, real, breaks)
        TALLY["asyncpg url"] += 1


def test_the_budget_was_spent_and_both_outcomes_seen() -> None:
    """Run after the two above (file order): every form got its cases, and the
    generator produced refusals and acceptances alike (a grammar that only ever
    produced one would make the comparison vacuous)."""
    forms = ("libpq18 keywords", "libpq18 url", f"libpq{PSYCOPG2_LIBPQ}", "asyncpg url")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # The tests above may have run in another worker: judge the forms run here.
        forms = tuple(form for form in forms if form in TALLY)
    if not forms or not TALLY:
        pytest.skip("run with the differential tests above")
    spent("test_conninfo_differential_options.py", {form: TALLY[form] for form in forms})
    if len(forms) < 4:
        return
    assert TALLY["refused"] > CASES // 10 and TALLY["accepted"] > CASES // 10, TALLY
    assert TALLY["corrected checked"] > CASES // 2, TALLY


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"sslnegotiation": "direct"}, 'weak sslmode "prefer" may not be used with sslnegotiation'),
        ({"sslnegotiation": "DIRECT", "sslmode": "require"}, "invalid sslnegotiation value"),
        ({"ssl_max_protocol_version": "TLSv1"}, "invalid SSL protocol version range"),
        ({"require_auth": "password,!md5"}, "cannot be mixed"),
        ({"scram_client_key": "x"}, "invalid SCRAM client key"),
    ],
)
def test_explain_names_the_refusal_and_its_rule(written: dict[str, str], message: str) -> None:
    """The verdict says libpq refuses, with its message; a TLS option's refusal is VF105."""
    verdict = evaluate(parse_dsn(keyword_string(written, "db")), "psycopg", Environment.empty())
    assert verdict.breaks is not None and message in verdict.breaks
    tls = not set(written) <= {"require_auth", "scram_client_key"}
    assert ("VF105" in {f.rule_id for f in verdict.findings}) == tls
