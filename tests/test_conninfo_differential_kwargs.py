"""asyncpg's keyword arguments (not only its DSN) against asyncpg's own parser.

`asyncpg.connect(host=..., port=..., user=..., database=..., ssl=..., direct_tls=...,
dsn=...)`: the arguments, a DSN beside them or not, and the PG* variables, generated
(hypothesis), go to asyncpg.connect_utils._parse_connect_dsn_and_args (asyncpg 0.32)
and to the model (from_asyncpg_kwargs + effective + evaluate). Endpoints, user,
database, sslmode and TLS use must agree, and each must refuse what the other
refuses, apart from the deliberate classes of test_conninfo_differential (a root
file that does not exist here). asyncpg's precedence is the thing under test: an
argument beats the DSN (a host argument hides the DSN's hosts, which asyncpg then
never reads, but takes its ?port=), a host written in either hides PGHOST, a port
list pairs with a host list or repeats, `ssl=` beats the DSN's sslmode and
PGSSLMODE, direct_tls needs a strong mode. CLASSES names the classes found here
(session 6, closed in session 7); each must be drawn in every run.
Budget: CASES inputs (VERIFYFULL_SLOW=1: ten times as many), derandomized, tallied
by class without shrinking.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_differential import (
    _SETTINGS,
    BATCH,
    DELIBERATE,
    MODES,
    NAMES,
    PORTS,
    SOCKETS,
    _asyncpg_settings,
    _model,
    ca_file,  # noqa: F401 - the fixture, shared
    differences,
    driver_environment,
    environment,
    host_spec,
    pg_variables,
    url_body,
    word,
)
from verifyfull.conninfo import Environment, from_asyncpg_kwargs

SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"
CASES = int(os.environ.get("VERIFYFULL_KWARGS_CASES", 5000 * (10 if SLOW else 1)))
# Deliberate differences only (each with its reason in docs/conninfo.md): the port
# outside 1-65535 refused early (as for libpq) and a root file that is not there.
# The classes found by this test in session 6 are closed (see CLASSES).
TALLY: Counter[str] = Counter()
HITS: Counter[str] = Counter()
EXAMPLES: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}

# '@pg-1.local' is libpq's abstract socket namespace, a TCP host name to asyncpg.
_hosts = st.sampled_from([*NAMES, *SOCKETS, "2001:db8::1", "[2001:db8::1]", "", "@pg-1.local"])
_ports = st.one_of(
    st.sampled_from([5432, 26257, 6000, 0, 65536]),
    st.sampled_from([p for p in PORTS if p]),
    st.sampled_from(["5432,6000", "6000,"]),  # one string: asyncpg int()s it whole
)


@st.composite
def _dsn(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 2)):
        return "postgresql://" + draw(url_body())
    # A host list (ports good or bad) and a ?port=: which of them asyncpg reads depends
    # on the host and port arguments beside it.
    hosts = ",".join(draw(st.lists(host_spec(in_url=True), min_size=1, max_size=2)))
    port = ",".join(draw(st.lists(st.sampled_from(PORTS[:5]), min_size=1, max_size=2)))
    return f"postgresql://{hosts}/db?port={port}"


@st.composite
def connect_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if draw(st.booleans()):
        given["dsn"] = draw(_dsn())
    shape = draw(st.sampled_from(["none", "none", "one", "list", "host:port", "h1,h2"]))
    if shape == "one":
        given["host"] = draw(_hosts)
    elif shape == "list":
        given["host"] = draw(st.lists(_hosts, min_size=1, max_size=3))
    elif shape == "host:port":
        given["host"] = f"{draw(st.sampled_from(NAMES))}:{draw(st.sampled_from(PORTS[:3]))}"
    elif shape == "h1,h2":  # one host name to asyncpg, two to libpq
        given["host"] = ",".join(draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=2)))
    port_shape = draw(st.sampled_from(["none", "none", "one", "list"]))
    if port_shape == "one":
        given["port"] = draw(_ports)
    elif port_shape == "list":
        given["port"] = draw(st.lists(_ports, min_size=1, max_size=3))
    for key in ("user", "database"):
        if draw(st.integers(0, 2)) == 0:
            given[key] = draw(word)
    ssl_shape = draw(st.sampled_from(["none", "none", "mode", "bool", "bool", "dict"]))
    if ssl_shape == "mode":
        given["ssl"] = draw(st.sampled_from(MODES))
    elif ssl_shape == "bool":
        given["ssl"] = draw(st.booleans())
    elif ssl_shape == "dict":
        given["ssl"] = {}
    if draw(st.integers(0, 2)) == 0:
        given["direct_tls"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:  # an argument beats the DSN's, even an empty one
        given["target_session_attrs"] = draw(st.sampled_from(["any", "read-only", "", "Any"]))
    if draw(st.integers(0, 7)) == 0:
        given["gsslib"] = draw(st.sampled_from(["gssapi", "sspi", "", "krb"]))
    return given


@st.composite
def kwargs_environment(draw: st.DrawFn) -> dict[str, str]:
    """The PG* variables, with a socket-only PGHOST and a PGPORT list drawn more often
    than the DSN grammar draws them: asyncpg's defaults for what the arguments leave out."""
    env = draw(environment())
    if draw(st.integers(0, 3)) == 0:
        env["PGHOST"] = ",".join(draw(st.lists(st.sampled_from(SOCKETS), min_size=1, max_size=2)))
    if draw(st.integers(0, 5)) == 0:
        env["PGPORT"] = "5433,5434"
    return env


@st.composite
def kwargs_case(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    given, env = draw(connect_kwargs()), draw(kwargs_environment())
    if draw(st.integers(0, 9)) == 0:
        # Direct TLS with no host but a socket-only PGHOST: asyncpg checks the mode
        # before it knows that it will never use TLS there.
        given.pop("host", None)
        given["direct_tls"] = True
        given["ssl"] = draw(st.sampled_from([True, True, False, "require", "prefer"]))
        if _dsn_hosts(given):
            del given["dsn"]
        env["PGHOST"] = draw(st.sampled_from(SOCKETS))
    return given, env


def _dsn_hosts(given: dict[str, Any]) -> bool:
    dsn = given.get("dsn", "")
    netloc = dsn.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    return bool(netloc) or "host=" in dsn


def _weak_ssl(given: dict[str, Any]) -> bool:
    ssl = given.get("ssl")
    return ssl is False or ssl == {} or ssl in ("disable", "allow", "prefer")


# The classes this test closed (issue 14): each must be drawn in every run (MINIMUM),
# so a narrower grammar cannot hide one again.
CLASSES = {
    "a DSN beside a host argument": lambda g, e: bool(g.get("host")) and _dsn_hosts(g),
    "a DSN's ?port= beside a host argument, no port argument": lambda g, e: (
        bool(g.get("host")) and not g.get("port") and "port=" in g.get("dsn", "")
    ),
    "host='h:port' or 'h1,h2' as an argument": lambda g, e: (
        isinstance(g.get("host"), str) and (":" in g["host"] or "," in g["host"])
    ),
    "direct_tls=True beside ssl=False, {} or a weak mode": lambda g, e: (
        g.get("direct_tls") is True and _weak_ssl(g)
    ),
    "ssl=True, direct_tls=True, a socket-only PGHOST, no host": lambda g, e: (
        g.get("ssl") is True
        and g.get("direct_tls") is True
        and not g.get("host")
        and not _dsn_hosts(g)
        and all(h.startswith("/") for h in e.get("PGHOST", "x").split(","))
    ),
    "an empty or invalid target_session_attrs or gsslib argument": lambda g, e: (
        g.get("target_session_attrs") in ("", "Any") or g.get("gsslib") in ("", "krb")
    ),
    "a host argument '@name' (a TCP name to asyncpg)": lambda g, e: (
        "@pg-1.local" in (g["host"] if isinstance(g.get("host"), list) else [g.get("host")])
    ),
    "PGHOST's own ports beside a PGPORT list": lambda g, e: (
        not g.get("host") and ":" in e.get("PGHOST", "") and "," in e.get("PGPORT", "")
    ),
}
MINIMUM = 10 if CASES >= 5000 else 1


def _one(given: dict[str, Any], variables: dict[str, str], ca: str) -> list[str]:
    given = {k: v.replace("{ca}", ca) if isinstance(v, str) else v for k, v in given.items()}
    variables = {k: v.replace("{ca}", ca) for k, v in variables.items()}
    env = Environment.of({"PGUSER": "envuser", **variables})
    with pg_variables(variables):
        driver = _asyncpg_settings(**given)
        model = _model(lambda: from_asyncpg_kwargs(dict(given)), "asyncpg", env)
    return differences(model, driver)


def test_asyncpg_keyword_arguments_agree_with_asyncpg(tmp_path: Path, ca_file: str) -> None:  # noqa: F811
    @settings(_SETTINGS, max_examples=max(1, -(-CASES // BATCH)))
    @given(st.lists(kwargs_case(), min_size=BATCH, max_size=BATCH))
    def run(cases: list[tuple[dict[str, Any], dict[str, str]]]) -> None:
        for given_kwargs, variables in cases:
            TALLY["cases"] += 1
            HITS.update(name for name, member in CLASSES.items() if member(given_kwargs, variables))
            for kind in _one(given_kwargs, variables, ca_file):
                TALLY[kind] += 1
                EXAMPLES.setdefault(kind, [])
                if len(EXAMPLES[kind]) < 3:
                    EXAMPLES[kind].append((given_kwargs, variables))

    with driver_environment(tmp_path):
        run()
    assert TALLY["cases"] >= CASES
    rare = {name: HITS[name] for name in CLASSES if HITS[name] < MINIMUM}
    assert not rare, f"classes drawn fewer than {MINIMUM} times in {TALLY['cases']}: {rare}"
    print(f"kwargs differential: {TALLY['cases']} cases; per class: {dict(HITS)}")
    # A port outside 1-65535 is refused early, as for libpq (DELIBERATE, conninfo.md).
    allowed = set(DELIBERATE["asyncpg"]) | set(DELIBERATE["libpq url"])
    unexpected = {k: n for k, n in TALLY.items() if k != "cases" and k not in allowed}
    report = "".join(f"\n  {k}: {n} (e.g. {EXAMPLES[k]})" for k, n in sorted(unexpected.items()))
    assert not unexpected, f"undocumented disagreements in {TALLY['cases']} cases: {report}"
