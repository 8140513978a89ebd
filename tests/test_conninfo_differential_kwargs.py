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

import ast
import os
import random
import ssl
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_budget import spent
from test_conninfo_differential import (
    _ASYNCPG_NONE,
    _SETTINGS,
    BATCH,
    DELIBERATE,
    MODES,
    NAMES,
    PAIRING,
    PORTS,
    SOCKETS,
    _asyncpg_settings,
    _asyncpg_settings_of,
    _model,
    asyncpg_utils,
    ca_file,  # noqa: F401 - the fixture, shared
    differences,
    driver_environment,
    environment_of,
    host_spec_of,
    pairing_check,
    pg_variables,
    url_body_of,
    word_of,
)
from test_conninfo_draws import SEEDS, batch, seeded
from verifyfull.conninfo import ConnStringError, Environment, evaluate, from_asyncpg_kwargs
from verifyfull.errors import VerifyfullError

SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"
CASES = int(os.environ.get("VERIFYFULL_KWARGS_CASES", 5000 * (10 if SLOW else 1)))
# Deliberate differences only (each with its reason in docs/conninfo.md): the port
# outside 1-65535 refused early (as for libpq) and a root file that is not there.
# The classes found by this test in session 6 are closed (see CLASSES).
TALLY: Counter[str] = Counter()
HITS: Counter[str] = Counter()
EXAMPLES: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}

# '@pg-1.local' is libpq's abstract socket namespace, a TCP host name to asyncpg.
HOSTS = [*NAMES, *SOCKETS, "2001:db8::1", "[2001:db8::1]", "", "@pg-1.local"]
_PORT_CHOICES: list[list[int | str]] = [
    [5432, 26257, 6000, 0, 65536],
    [p for p in PORTS if p],
    ["5432,6000", "6000,"],  # one string: asyncpg int()s it whole
]


def _port_of(rng: random.Random) -> int | str:
    return rng.choice(rng.choice(_PORT_CHOICES))


def dsn_of(rng: random.Random) -> str:
    if rng.randrange(3):
        return "postgresql://" + url_body_of(rng)
    # A host list (ports good or bad) and a ?port=: which of them asyncpg reads depends
    # on the host and port arguments beside it.
    hosts = ",".join(host_spec_of(rng, in_url=True) for _ in range(rng.randint(1, 2)))
    port = ",".join(rng.choice(PORTS[:5]) for _ in range(rng.randint(1, 2)))
    return f"postgresql://{hosts}/db?port={port}"


def connect_kwargs_of(rng: random.Random) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if rng.random() < 0.5:
        given["dsn"] = dsn_of(rng)
    shape = rng.choice(["none", "none", "one", "list", "host:port", "h1,h2"])
    if shape == "one":
        given["host"] = rng.choice(HOSTS)
    elif shape == "list":
        given["host"] = [rng.choice(HOSTS) for _ in range(rng.randint(1, 3))]
    elif shape == "host:port":
        given["host"] = f"{rng.choice(NAMES)}:{rng.choice(PORTS[:3])}"
    elif shape == "h1,h2":  # one host name to asyncpg, two to libpq
        given["host"] = ",".join(rng.choice(NAMES) for _ in range(2))
    port_shape = rng.choice(["none", "none", "one", "list"])
    if port_shape == "one":
        given["port"] = _port_of(rng)
    elif port_shape == "list":
        given["port"] = [_port_of(rng) for _ in range(rng.randint(1, 3))]
    for key in ("user", "database"):
        if rng.randrange(3) == 0:
            given[key] = word_of(rng)
    ssl_shape = rng.choice(["none", "none", "mode", "bool", "bool", "dict"])
    if ssl_shape == "mode":
        given["ssl"] = rng.choice(MODES)
    elif ssl_shape == "bool":
        given["ssl"] = rng.random() < 0.5
    elif ssl_shape == "dict":
        given["ssl"] = {}
    if rng.randrange(3) == 0:
        given["direct_tls"] = rng.random() < 0.5
    if rng.randrange(6) == 0:  # an argument beats the DSN's, even an empty one
        given["target_session_attrs"] = rng.choice(["any", "read-only", "", "Any"])
    if rng.randrange(8) == 0:
        given["gsslib"] = rng.choice(["gssapi", "sspi", "", "krb"])
    return given


def kwargs_environment_of(rng: random.Random) -> dict[str, str]:
    """The PG* variables, with a socket-only PGHOST and a PGPORT list drawn more often
    than the DSN grammar draws them: asyncpg's defaults for what the arguments leave out."""
    env = environment_of(rng)
    if rng.randrange(4) == 0:
        env["PGHOST"] = ",".join(rng.choice(SOCKETS) for _ in range(rng.randint(1, 2)))
    if rng.randrange(6) == 0:
        env["PGPORT"] = "5433,5434"
    return env


def kwargs_case(rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
    given, env = connect_kwargs_of(rng), kwargs_environment_of(rng)
    if rng.randrange(10) == 0:
        # Direct TLS with no host but a socket-only PGHOST: asyncpg checks the mode
        # before it knows that it will never use TLS there.
        given.pop("host", None)
        given["direct_tls"] = True
        given["ssl"] = rng.choice([True, True, False, "require", "prefer"])
        if _dsn_hosts(given):
            del given["dsn"]
        env["PGHOST"] = rng.choice(SOCKETS)
    return given, env


def connect_kwargs() -> st.SearchStrategy[dict[str, Any]]:
    return seeded(connect_kwargs_of)


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
    "PGGSSLIB empty or invalid, no gsslib argument": lambda g, e: (
        e.get("PGGSSLIB") in ("", "krb", "GSSAPI") and "gsslib" not in g
    ),
    # asyncpg raises "could not match N port numbers to M hosts": predicted as its own
    # error with VF105 (pairing_check compares the message on every such case).
    "a port list argument that does not pair with the hosts": lambda g, e: (
        isinstance(g.get("port"), list)
        and len(g["port"]) > 1
        and len(g["port"]) != (len(g["host"]) if isinstance(g.get("host"), list) else 1)
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
        build = lambda: from_asyncpg_kwargs(dict(given))  # noqa: E731
        model = _model(build, "asyncpg", env)
        return differences(model, driver) + pairing_check(driver, build, "asyncpg", env)


def test_asyncpg_keyword_arguments_agree_with_asyncpg(tmp_path: Path, ca_file: str) -> None:  # noqa: F811
    @settings(_SETTINGS, max_examples=max(1, -(-CASES // BATCH)))
    @given(SEEDS)
    def run(seed: int) -> None:
        for given_kwargs, variables in batch(seed, BATCH, kwargs_case):
            TALLY["cases"] += 1
            HITS.update(name for name, member in CLASSES.items() if member(given_kwargs, variables))
            for kind in _one(given_kwargs, variables, ca_file):
                TALLY[kind] += 1
                EXAMPLES.setdefault(kind, [])
                if len(EXAMPLES[kind]) < 3:
                    EXAMPLES[kind].append((given_kwargs, variables))

    with driver_environment(tmp_path):
        run()
    spent("test_conninfo_differential_kwargs.py", {"asyncpg keyword arguments": TALLY["cases"]})
    rare = {name: HITS[name] for name in CLASSES if HITS[name] < MINIMUM}
    assert not rare, f"classes drawn fewer than {MINIMUM} times in {TALLY['cases']}: {rare}"
    print(f"kwargs differential: {TALLY['cases']} cases; per class: {dict(HITS)}")
    # asyncpg's "could not match N port numbers to M hosts", compared verbatim.
    assert PAIRING["asyncpg"] >= MINIMUM, PAIRING
    # A port outside 1-65535 is refused early, as for libpq (DELIBERATE, conninfo.md).
    allowed = set(DELIBERATE["asyncpg"]) | set(DELIBERATE["libpq url"])
    unexpected = {k: n for k, n in TALLY.items() if k != "cases" and k not in allowed}
    report = "".join(f"\n  {k}: {n} (e.g. {EXAMPLES[k]})" for k, n in sorted(unexpected.items()))
    assert not unexpected, f"undocumented disagreements in {TALLY['cases']} cases: {report}"


# --- the corrected form, re-read by asyncpg ---------------------------------------

CORRECTED: Counter[str] = Counter()
CORRECTED_EXAMPLES: dict[str, list[tuple[dict[str, Any], dict[str, str], str]]] = {}


@dataclass(frozen=True)
class CorrectedCall:
    """What the corrected code hands asyncpg.connect: its DSN (a literal), the other
    literal arguments, and the SSLContext it builds (ssl.create_default_context)."""

    dsn: str
    arguments: dict[str, Any]
    context_call: str


def corrected_call(code: str) -> CorrectedCall:
    """Read the corrected code (ast, never run): `ctx = ssl.<factory>(cafile=...)` and
    `await asyncpg.connect("<dsn>", ssl=ctx, ...)`."""
    tree = ast.parse(code)  # (the parser takes a top-level await; nothing is run)
    context_call = ""
    connect: ast.Call | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _names(node.targets) == ["ctx"]:
            func = node.value.func if isinstance(node.value, ast.Call) else None
            if isinstance(func, ast.Attribute) and _dotted(func.value) == "ssl":
                context_call = func.attr
        if isinstance(node, ast.Call) and _dotted(node.func) == "asyncpg.connect":
            connect = node
    assert connect is not None and context_call, code
    (dsn_node,) = connect.args
    dsn = ast.literal_eval(dsn_node)
    arguments: dict[str, Any] = {}
    for keyword in connect.keywords:
        assert keyword.arg is not None, code
        if keyword.arg == "ssl":
            assert isinstance(keyword.value, ast.Name) and keyword.value.id == "ctx", code
            continue
        arguments[keyword.arg] = ast.literal_eval(keyword.value)
    return CorrectedCall(dsn, arguments, context_call)


def _names(targets: list[ast.expr]) -> list[str]:
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _reread(given: dict[str, Any], variables: dict[str, str], ca: str) -> str | None:
    """The corrected form of an asyncpg kwargs site, handed back to asyncpg's parser:
    verify-full (an SSLContext that checks the chain and the host name, no plaintext
    fallback) to the endpoints the original would dial. None when it agrees or there is
    nothing to correct (the original breaks, or never leaves a Unix socket)."""
    given = {k: v.replace("{ca}", ca) if isinstance(v, str) else v for k, v in given.items()}
    variables = {k: v.replace("{ca}", ca) for k, v in variables.items()}
    env = Environment.of({"PGUSER": "envuser", **variables})
    with pg_variables(variables):
        original = _asyncpg_settings(**given)
        try:
            info = from_asyncpg_kwargs(dict(given))
            verdict = evaluate(info, "asyncpg", env)
        except (ConnStringError, VerifyfullError):
            return None
        if original.error or verdict.breaks or original.tls == "never":
            return None
        if any("@" in h.host[1:] for h in info.hosts):
            # Deliberate (docs/conninfo.md, Passwords): the rest of a password, masked in
            # every rendering, the corrected form too ('@name' alone is a name).
            return None
        CORRECTED["checked"] += 1
        call = corrected_call(verdict.corrected)
        if call.context_call != "create_default_context":
            return f"the corrected form builds its context with ssl.{call.context_call}"
        context = ssl.create_default_context(cafile=ca)  # the code's call, on a root here
        try:
            addrs, params = asyncpg_utils._parse_connect_dsn_and_args(
                **{**_ASYNCPG_NONE, **call.arguments, "dsn": call.dsn, "ssl": context}
            )
        except Exception as exc:  # the corrected form must connect
            return f"asyncpg refuses the corrected form: {type(exc).__name__}: {exc}"
    again = _asyncpg_settings_of(addrs, params)
    if params.ssl is not context or params.sslmode.name != "require":
        return f"the corrected form is not verified TLS: sslmode {params.sslmode.name}"
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        return "the corrected context does not check the chain and the host name"
    if again.endpoints != original.endpoints:
        return f"the corrected form dials {again.endpoints}, the original {original.endpoints}"
    return None


def test_corrected_kwargs_forms_reread_by_asyncpg(tmp_path: Path, ca_file: str) -> None:  # noqa: F811
    """Issue 14: the corrected form of each generated asyncpg kwargs site (code that
    passes an SSLContext) re-read by asyncpg's own parser gives verified TLS to the same
    hosts and ports as the original."""

    @settings(_SETTINGS, max_examples=max(1, -(-CASES // BATCH)))
    @given(SEEDS)
    def run(seed: int) -> None:
        for given_kwargs, variables in batch(seed, BATCH, kwargs_case):
            CORRECTED["cases"] += 1
            problem = _reread(given_kwargs, variables, ca_file)
            if problem is not None:
                kind = problem.split(":")[0].split(" dials ")[0]
                CORRECTED[kind] += 1
                shown = CORRECTED_EXAMPLES.setdefault(kind, [])
                if len(shown) < 3:
                    shown.append((given_kwargs, variables, problem))

    with driver_environment(tmp_path):
        run()
    assert CORRECTED["cases"] >= CASES
    assert CORRECTED["checked"] >= CASES // 10, CORRECTED  # about a quarter connect over TCP
    print(f"asyncpg kwargs corrected forms re-read: {CORRECTED['checked']}")
    problems = {k: n for k, n in CORRECTED.items() if k not in ("cases", "checked")}
    report = "".join(f"\n  {k}: {n} (e.g. {CORRECTED_EXAMPLES[k]})" for k, n in problems.items())
    assert not problems, f"corrected forms asyncpg reads otherwise: {report}"
