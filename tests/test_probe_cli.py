"""Target parsing and the command line: bad input is one line and exit 2, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app, main
from verifyfull.errors import UsageError
from verifyfull.probe.runner import ProbeSettings, logins_for
from verifyfull.probe.targets import Endpoint, parse_target


def test_multi_host_dsn_gives_every_host_with_default_ports() -> None:
    target = parse_target("cockroachdb://root@n1,n2:26258,[::1]/defaultdb?sslrootcert=/c/ca.crt")
    assert target.protocol == "pg"
    assert target.endpoints == (
        Endpoint("n1", 26257),
        Endpoint("n2", 26258),
        Endpoint("::1", 26257),
    )
    assert (target.user, target.database, target.ca) == ("root", "defaultdb", Path("/c/ca.crt"))


def test_postgresql_default_port_and_driver_suffix() -> None:
    target = parse_target("postgresql+asyncpg://app@db.internal/app")
    assert target.endpoints == (Endpoint("db.internal", 5432),)


def test_password_in_a_dsn_is_masked_and_never_kept() -> None:
    target = parse_target("postgresql://app:CANARY-s3cret@db:26257/app")
    assert "CANARY" not in target.text and "***" in target.text
    assert "CANARY" not in repr(target)


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [
        ("db.internal:26257", Endpoint("db.internal", 26257)),
        ("127.0.0.1:5432", Endpoint("127.0.0.1", 5432)),
        ("[::1]:5432", Endpoint("::1", 5432)),
    ],
)
def test_host_port(text: str, endpoint: Endpoint) -> None:
    assert parse_target(text).endpoints == (endpoint,)
    assert parse_target(text).text == endpoint.label


def test_https_targets_keep_path_and_default_port() -> None:
    target = parse_target("https://api.example.com/health?x=1")
    assert target.protocol == "https"
    assert target.endpoints == (Endpoint("api.example.com", 443),)
    assert target.path == "/health?x=1"
    assert parse_target("http://api.example.com").endpoints == (Endpoint("api.example.com", 80),)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("db.internal", "has no port"),
        ("db:99999", "invalid port"),
        ("db:http", "invalid port"),
        ("mysql://x@db/app", "unsupported target scheme"),
        ("", "empty probe target"),
        ("::1:5432", "write IPv6 as"),
        ("https://:443/", "has no host"),
    ],
)
def test_bad_targets_are_usage_errors(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_target(text)


def test_logins_default_to_root_and_postgres() -> None:
    logins = logins_for(parse_target("db:26257"), ProbeSettings())
    assert [(x.user, x.database) for x in logins] == [
        ("root", "defaultdb"),
        ("postgres", "postgres"),
    ]


def test_logins_follow_the_dsn_then_the_options() -> None:
    target = parse_target("postgresql://app@db:26257/shop")
    assert [(x.user, x.database) for x in logins_for(target, ProbeSettings())] == [("app", "shop")]
    settings = ProbeSettings(users=("root", "app_pw"), database="defaultdb")
    assert [(x.user, x.database) for x in logins_for(target, settings)] == [
        ("root", "defaultdb"),
        ("app_pw", "defaultdb"),
    ]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["db"], "has no port"),
        (["db:1", "--timeout", "0"], "--timeout 0 is out of range"),
        (["db:1", "--format", "xml"], "unknown format 'xml'"),
        (["db:1", "--fail-on", "urgent"], "unknown severity 'urgent'"),
        (["db:1", "--ca", "/nonexistent/ca.crt"], "/nonexistent/ca.crt not found"),
        (["db:1", "--cert", __file__], "--cert and --key go together"),
    ],
)
def test_cli_usage_errors_are_one_line_exit_2(
    args: list[str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the real entry point (verifyfull.cli.main): stderr one line, exit 2."""
    monkeypatch.setattr(sys, "argv", ["verifyfull", "probe", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("verifyfull: error: ")
    assert problem in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unreachable_target_is_an_error_line_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    report = tmp_path / "report.json"
    outcome = CliRunner().invoke(
        app, ["probe", f"127.0.0.1:{port}", "--format", "json", "--output", str(report)]
    )
    assert outcome.exit_code == 2
    text = report.read_text()
    assert '"errors": [' in text and "cannot connect" in text
