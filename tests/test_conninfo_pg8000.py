"""pg8000 in conninfo (conninfo/pg8000_rules.py; held-out-s14, perttukangas/ohtu-mini).

Two oracles: the table below is this file's reading of pg8000's core.py at 1.29.3 and
1.31.6 (the `ssl_context` branches, read in the wheels), for both versions; the live
test runs the installed pg8000 (requirements/constraints.txt) against the lab through
real on-path attackers, as tests/test_conninfo_table.py does for the other drivers:
a client whose verdict says TLS may be skipped sends its StartupMessage in cleartext
to a proxy answering 'N', and one whose verdict checks no chain completes a handshake
with a rogue certificate.
"""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from verifyfull.conninfo import evaluate, from_pg8000_kwargs, from_sqlalchemy_url
from verifyfull.conninfo.sslarg import SSLArg, describe_context
from verifyfull.conninfo.versions import DriverVersions
from verifyfull.lab.mitm import DowngradeProxy, RogueTLSProxy

OLD, NEW = DriverVersions(pg8000=(1, 29, 3)), DriverVersions(pg8000=(1, 31, 6))
BASE = {"user": "app", "host": "db.internal", "database": "app"}

# ssl_context -> (before 1.31, 1.31 and later): (tls, chain checked, transport rule, breaks)
TABLE: dict[str, tuple[tuple[str, bool, str | None, bool], tuple[str, bool, str | None, bool]]] = {
    "absent": (("never", False, "VF101", False), ("maybe", False, "VF102", False)),
    "None": (("never", False, "VF101", False), ("maybe", False, "VF102", False)),
    "True": (("always", True, None, False), ("always", False, "VF103", False)),
    "False": (("never", False, "VF101", True), ("never", False, "VF101", False)),
    "'require'": (("always", False, None, True), ("always", False, None, True)),
    "verified context": (("always", True, None, False), ("always", True, None, False)),
    "CERT_NONE context": (("always", False, "VF103", False), ("always", False, "VF103", False)),
}


def _verified() -> ssl.SSLContext:
    return ssl.create_default_context()


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _ssl_value(case: str) -> tuple[bool, object]:
    """(given, the value) of ssl_context for a table row."""
    return {
        "absent": (False, None),
        "None": (True, None),
        "True": (True, True),
        "False": (True, False),
        "'require'": (True, "require"),
        "verified context": (True, _verified()),
        "CERT_NONE context": (True, _unverified()),
    }[case]


def _as_arg(value: object) -> object:
    if isinstance(value, ssl.SSLContext):
        return SSLArg.of_context(describe_context(value))
    return SSLArg.absent() if value is None else value


def _verdict(case: str, versions: DriverVersions, **extra: object) -> Any:
    given, value = _ssl_value(case)
    kwargs: dict[str, object] = {**BASE, **extra}
    if given:
        kwargs["ssl_context"] = _as_arg(value)
    return evaluate(from_pg8000_kwargs(kwargs), "pg8000", versions=versions)


@pytest.mark.parametrize("case", sorted(TABLE))
@pytest.mark.parametrize("version", ["old", "new"])
def test_pg8000_ssl_context_reads_as_its_version_does(case: str, version: str) -> None:
    expected_tls, chain, rule, breaks = TABLE[case][version == "new"]
    verdict = _verdict(case, NEW if version == "new" else OLD)
    transport = [f.rule_id for f in verdict.findings if f.rule_id in ("VF101", "VF102", "VF103")]
    assert verdict.tls.value == expected_tls, verdict.notes
    assert verdict.verifies_chain is chain
    assert (verdict.breaks is not None) is breaks, verdict.breaks
    if not breaks:
        assert transport == ([rule] if rule else []), verdict.findings


def test_a_unix_socket_is_no_network_path() -> None:
    verdict = _verdict("absent", NEW, unix_sock="/run/postgresql/.s.PGSQL.5432")
    assert not [f for f in verdict.findings if f.rule_id.startswith("VF10")]


def test_the_sqlalchemy_dialect_hands_the_url_query_to_pg8000_as_keywords() -> None:
    """create_connect_args: opts.update(url.query): `?sslmode=` is a TypeError."""
    verdict = evaluate(
        from_sqlalchemy_url("postgresql+pg8000://app@db.internal/app?sslmode=require")
    )
    assert verdict.breaks is not None and "sslmode" in verdict.breaks
    given = from_sqlalchemy_url("postgresql+pg8000://app@db.internal/app", {"ssl_context": True})
    assert [f.rule_id for f in evaluate(given).findings] == ["VF103"]
    plain = evaluate(from_sqlalchemy_url("postgresql+pg8000://app@db.internal/app"))
    assert [f.rule_id for f in plain.findings] == ["VF102"]


# --- the installed pg8000 through real on-path attackers -------------------------------

CONNECT_TIMEOUT = 5
LIVE_CASES = ("absent", "None", "True", "False", "CERT_NONE context", "verified context")


def _connect(server: Any, port: int, case: str) -> None:
    given, value = _ssl_value(case)
    if case == "verified context":
        value = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    options: dict[str, object] = {"ssl_context": value} if given else {}
    connection = pg8000.native.Connection(
        server.password_user,
        host="localhost",
        port=port,
        database=server.database,
        password=server.password,
        timeout=CONNECT_TIMEOUT,
        **options,
    )
    connection.close()


def _dial_through(proxy: Any, server: Any, case: str) -> Any:
    """One connection attempt through an on-path proxy (failing is an outcome too)."""
    with proxy, contextlib.suppress(Exception):
        _connect(server, proxy.port, case)
    return proxy


@pytest.mark.pg
@pytest.mark.parametrize("case", LIVE_CASES)
def test_installed_pg8000_agrees_under_attack(
    case: str, lab: Any, rogue_cert: tuple[Path, Path]
) -> None:
    import pg8000 as installed

    version = tuple(int(p) for p in installed.__version__.split(".")[:3])
    verdict = _verdict(case, DriverVersions(pg8000=version))
    assert verdict.breaks is None
    server = lab("tls-optional")
    downgrade = DowngradeProxy(server.host, server.port, timeout=CONNECT_TIMEOUT)
    cleartext = bool(_dial_through(downgrade, server, case).startup_messages)
    assert cleartext is (verdict.tls.value != "always"), (case, verdict.tls)
    if verdict.tls.value != "always":
        return
    cert, key = rogue_cert
    rogue = RogueTLSProxy(server.host, server.port, cert=cert, key=key, timeout=CONNECT_TIMEOUT)
    accepted = _dial_through(rogue, server, case).client_completed_handshake
    assert accepted is (not verdict.verifies_chain), (case, verdict.verifies_chain)
    if verdict.verifies_chain:  # and with the right CA the real server is reached
        _connect(server, server.port, case)


@pytest.mark.parametrize(
    ("info", "driver"),
    [
        (from_pg8000_kwargs({**BASE, "port": 5433, "password": "Xk29vbqT"}), "pg8000"),
        (from_sqlalchemy_url("postgresql+pg8000://app:Xk29vbqT@db.internal/app"), None),
    ],
    ids=["pg8000", "sqlalchemy+pg8000"],
)
def test_the_corrected_form_stays_pg8000_and_scans_clean(
    info: Any, driver: str | None, tmp_path: Path
) -> None:
    """The rewrite keeps the driver (ssl_context=ctx, not another driver's form), never
    names PGPASSWORD (pg8000 reads no PG* variable), and the scanner judges it verify-full."""
    from verifyfull.policy import DEFAULT_POLICY
    from verifyfull.scan.api import ScanContext
    from verifyfull.scan.engine import scan_file
    from verifyfull.scan.walk import WalkedFile

    corrected = evaluate(info, driver).corrected
    assert "ssl_context" in corrected and "pg8000" in corrected, corrected
    assert "PGPASSWORD" not in corrected and "Xk29vbqT" not in corrected
    imports = "import pg8000.native\nfrom sqlalchemy import create_engine\n"
    path = tmp_path / "fixed.py"
    path.write_text(imports + corrected + "\n", encoding="utf-8")
    outcome = scan_file(WalkedFile(path, "fixed.py"), ScanContext(tmp_path, DEFAULT_POLICY), 10**6)
    assert not [f for f in outcome.findings if f.rule_id.startswith("VF10")], outcome.findings
