"""Guard settings, refusal, SSLContext and start-up file checks (no server needed).

Certificates are made by verifyfull.certs.create, as users get them.
"""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import pytest

from verifyfull.certs.create import KeySpec, Validity, create_ca, create_client, create_node
from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.guard.context import client_context
from verifyfull.guard.core import Guard
from verifyfull.guard.files import check_files
from verifyfull.guard.refuse import refuse_context, refuse_sslmode
from verifyfull.guard.settings import DatabaseTLSSettings, parse_hosts, parse_pins
from verifyfull.policy import DEFAULT_POLICY, Policy

CANARY = "canary-pw-7f3a9c"


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    certs_dir = tmp_path / "certs"
    ca_key = tmp_path / "ca.key"
    create_ca(certs_dir, ca_key, key=KeySpec("ec", 256))
    create_node(["localhost"], certs_dir, ca_key, key=KeySpec("ec", 256))
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256))
    return certs_dir


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in list(os.environ):
        if name.startswith("DB_") or name in ("DATABASE_URL", "PGSSLMODE"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _seed_env(monkeypatch: pytest.MonkeyPatch, certs: Path, **more: str) -> None:
    values = {
        "DB_HOST": "localhost",
        "DB_PORT": "5433",
        "DB_NAME": "defaultdb",
        "DB_USER": "app",
        "DB_CERT_PATH": str(certs / "client.app.crt"),
        "DB_KEY_PATH": str(certs / "client.app.key"),
        "DB_CA_PATH": str(certs / "ca.crt"),
    }
    _env(monkeypatch, **(values | more))


def test_seed_variables_resolve_to_verify_full_target(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _seed_env(monkeypatch, certs)
    target = DatabaseTLSSettings().resolve()
    assert target.hosts == (("localhost", 5433),)
    assert (target.database, target.user, target.sslmode) == ("defaultdb", "app", "verify-full")
    assert target.cert_file == certs / "client.app.crt"
    assert target.mtls


def test_certs_dir_layout_fills_in_ca_and_client_files(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _env(monkeypatch, DB_CERTS_DIR=str(certs), DB_USER="app")
    target = DatabaseTLSSettings().resolve()
    assert target.ca_file == certs / "ca.crt"
    assert (target.cert_file, target.key_file) == (
        certs / "client.app.crt",
        certs / "client.app.key",
    )
    _env(monkeypatch, DB_CERTS_DIR=str(certs), DB_USER="nobody")
    assert DatabaseTLSSettings().resolve().cert_file is None  # password auth then


def test_no_ca_is_refused_as_unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, DB_HOST="db")
    with pytest.raises(InsecureConfigurationError) as err:
        DatabaseTLSSettings().resolve()
    assert err.value.rule_id == "VF103"
    assert "DB_CA_PATH" in str(err.value)


@pytest.mark.parametrize(
    ("mode", "rule"),
    [
        ("disable", "VF101"),
        ("allow", "VF102"),
        ("prefer", "VF102"),
        ("require", "VF103"),
        ("verify-ca", "VF104"),
    ],
)
def test_weak_sslmodes_are_refused_with_their_rule(mode: str, rule: str) -> None:
    with pytest.raises(InsecureConfigurationError) as err:
        refuse_sslmode(mode, DEFAULT_POLICY)
    assert err.value.rule_id == rule
    assert str(err.value).startswith(f"{rule}: sslmode={mode} is refused")
    assert "\n" not in str(err.value)


def test_verify_ca_only_by_opt_in_and_then_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="verifyfull.guard"):
        assert refuse_sslmode("verify-ca", Policy(allow_verify_ca=True)) is False
    assert "VF104" in caplog.text
    assert refuse_sslmode("verify-full", DEFAULT_POLICY) is True
    with pytest.raises(UsageError):
        refuse_sslmode("verify_full", DEFAULT_POLICY)


def test_env_sslmode_request_is_refused(monkeypatch: pytest.MonkeyPatch, certs: Path) -> None:
    # libpq's require with a root file checks the chain but not the host name (conninfo).
    _seed_env(monkeypatch, certs, DB_SSLMODE="require")
    with pytest.raises(InsecureConfigurationError) as err:
        DatabaseTLSSettings().resolve()
    assert err.value.rule_id == "VF104"
    _seed_env(monkeypatch, certs, DB_SSLMODE="allow")
    with pytest.raises(InsecureConfigurationError) as err:
        DatabaseTLSSettings().resolve()
    assert err.value.rule_id == "VF102"


def test_multi_host_lists_parse_with_default_ports() -> None:
    assert parse_hosts("n1, n2:26258,[::1]:5432,[fe80::1]", 26257) == (
        ("n1", 26257),
        ("n2", 26258),
        ("::1", 5432),
        ("fe80::1", 26257),
    )
    with pytest.raises(UsageError):
        parse_hosts("n1:99999", 26257)
    with pytest.raises(UsageError):
        parse_hosts(" , ", 26257)


def test_pins_accept_colon_hex_and_refuse_junk() -> None:
    pin = "AB:" * 31 + "AB"
    assert parse_pins(f"{pin}, sha256/{'0' * 64}") == {"ab" * 32, "0" * 64}
    with pytest.raises(UsageError):
        parse_pins("not-a-pin")


def test_password_from_file_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, certs: Path, tmp_path: Path
) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(CANARY + "\n")
    _seed_env(monkeypatch, certs, DB_PASSWORD_FILE=str(secret_file))
    settings = DatabaseTLSSettings()
    target = settings.resolve()
    assert target.password is not None and target.password.get_secret_value() == CANARY
    for text in (repr(settings), str(settings), repr(target), target.describe()):
        assert CANARY not in text
    assert target.describe() == "postgresql://app:***@localhost:5433/defaultdb?sslmode=verify-full"


def test_password_and_password_file_together_is_an_error(
    monkeypatch: pytest.MonkeyPatch, certs: Path, tmp_path: Path
) -> None:
    _seed_env(monkeypatch, certs, DB_PASSWORD=CANARY, DB_PASSWORD_FILE=str(tmp_path / "x"))
    with pytest.raises(UsageError) as err:
        DatabaseTLSSettings().resolve()
    assert CANARY not in str(err.value)


def test_missing_password_file_is_one_line(monkeypatch: pytest.MonkeyPatch, certs: Path) -> None:
    _seed_env(monkeypatch, certs, DB_PASSWORD_FILE="/nonexistent/pw")
    with pytest.raises(UsageError, match="cannot read DB_PASSWORD_FILE"):
        DatabaseTLSSettings().resolve()


def test_client_context_is_verify_full_with_tls12_floor(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _seed_env(monkeypatch, certs)
    ctx = client_context(DatabaseTLSSettings().resolve())
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    # Only the cluster CA is trusted, not the system store.
    assert len(ctx.get_ca_certs()) == 1


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ("cert_none", "VF103"),
        ("no_hostname", "VF104"),
        ("tls1", "VF106"),
        ("weak_ciphers", "VF107"),
    ],
)
def test_weak_contexts_are_refused(change: str, rule: str) -> None:
    ctx = ssl.create_default_context()
    if change == "cert_none":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif change == "no_hostname":
        ctx.check_hostname = False
    elif change == "tls1":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    elif change == "weak_ciphers":
        try:
            ctx.set_ciphers("AES128-SHA:DES-CBC3-SHA:NULL-SHA:@SECLEVEL=0")
        except ssl.SSLError:
            pytest.skip("this OpenSSL has no weak suites to switch on")
    with pytest.raises(InsecureConfigurationError) as err:
        refuse_context(ctx, DEFAULT_POLICY)
    assert err.value.rule_id == rule
    refuse_context(ssl.create_default_context(), DEFAULT_POLICY)  # the default passes


def test_server_context_and_non_context_are_refused() -> None:
    with pytest.raises(InsecureConfigurationError) as err:
        refuse_context(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), DEFAULT_POLICY)
    assert err.value.rule_id == "VF105"
    with pytest.raises(InsecureConfigurationError):
        refuse_context({"ssl_mode": "verify-ca"}, DEFAULT_POLICY)  # type: ignore[arg-type]


def test_missing_files_are_refused_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _seed_env(monkeypatch, certs, DB_CA_PATH=str(certs / "nope.crt"))
    with pytest.raises(InsecureConfigurationError) as err:
        Guard.from_env()
    assert err.value.rule_id == "VF105"
    assert "nope.crt" in str(err.value)


def test_key_readable_by_others_is_refused(monkeypatch: pytest.MonkeyPatch, certs: Path) -> None:
    os.chmod(certs / "client.app.key", 0o644)
    _seed_env(monkeypatch, certs)
    with pytest.raises(InsecureConfigurationError) as err:
        Guard.from_env()
    assert err.value.rule_id == "VF306"
    assert "chmod 600" in str(err.value)


def test_key_not_matching_certificate_is_refused(
    monkeypatch: pytest.MonkeyPatch, certs: Path, tmp_path: Path
) -> None:
    create_client("other", certs, tmp_path / "ca.key", key=KeySpec("ec", 256))
    _seed_env(monkeypatch, certs, DB_KEY_PATH=str(certs / "client.other.key"))
    with pytest.raises(InsecureConfigurationError) as err:
        Guard.from_env()
    assert err.value.rule_id == "VF105"
    assert "does not match" in str(err.value)
    assert "PRIVATE KEY" not in str(err.value)


def test_expired_client_certificate_is_refused(
    monkeypatch: pytest.MonkeyPatch, certs: Path, tmp_path: Path
) -> None:
    create_client(
        "app",
        certs,
        tmp_path / "ca.key",
        key=KeySpec("ec", 256),
        validity=Validity.expired(),
        overwrite=True,
    )
    _seed_env(monkeypatch, certs)
    with pytest.raises(InsecureConfigurationError) as err:
        Guard.from_env()
    assert err.value.rule_id == "VF303"


def test_weak_client_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, certs: Path, tmp_path: Path
) -> None:
    create_client("app", certs, tmp_path / "ca.key", key=KeySpec("rsa", 1024), overwrite=True)
    _seed_env(monkeypatch, certs)
    with pytest.raises(InsecureConfigurationError) as err:
        Guard.from_env()
    assert err.value.rule_id == "VF304"


def test_good_files_pass_and_certificate_expiring_soon_is_a_warning(
    certs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    create_client(
        "app",
        certs,
        tmp_path / "ca.key",
        key=KeySpec("ec", 256),
        validity=Validity(lifetime=dt.timedelta(days=10)),
        overwrite=True,
    )
    _seed_env(monkeypatch, certs)
    warnings = check_files(DatabaseTLSSettings().resolve())
    assert [w.rule_id for w in warnings] == ["VF303"]


def test_database_url_gives_hosts_user_and_files(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    url = (
        f"postgresql+asyncpg://app:{CANARY}@n1:26257,n2:26258/bank"
        f"?sslmode=verify-full&sslrootcert={certs}/ca.crt"
        f"&sslcert={certs}/client.app.crt&sslkey={certs}/client.app.key"
    )
    _env(monkeypatch, DATABASE_URL=url)
    target = DatabaseTLSSettings().resolve()
    assert target.hosts == (("n1", 26257), ("n2", 26258))
    assert (target.user, target.database, target.ca_file) == ("app", "bank", certs / "ca.crt")
    assert target.key_file == certs / "client.app.key"
    assert target.password is not None and target.password.get_secret_value() == CANARY
    assert CANARY not in target.describe() and CANARY not in repr(target)


@pytest.mark.parametrize(
    ("query", "rule"),
    [("sslmode=require", "VF103"), ("sslmode=prefer", "VF102"), ("sslrootcert=system", "VF103")],
)
def test_database_url_weak_requests_are_refused_without_the_password(
    monkeypatch: pytest.MonkeyPatch, certs: Path, query: str, rule: str
) -> None:
    _env(monkeypatch, DATABASE_URL=f"postgresql://app:{CANARY}@db/app?{query}")
    with pytest.raises(InsecureConfigurationError) as err:
        DatabaseTLSSettings().resolve()
    assert err.value.rule_id == rule
    assert CANARY not in str(err.value)


def test_database_url_without_sslmode_gets_verify_full_from_db_files(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _env(monkeypatch, DATABASE_URL="cockroachdb://app@db:26257/app", DB_CERTS_DIR=str(certs))
    target = DatabaseTLSSettings().resolve()
    assert target.sslmode == "verify-full"
    assert target.cert_file == certs / "client.app.crt"


def test_database_url_ssl_option_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _env(monkeypatch, DATABASE_URL=f"postgresql://app:{CANARY}@db/app?ssl=true")
    with pytest.raises(UsageError) as err:
        DatabaseTLSSettings().resolve()
    assert "ssl" in str(err.value) and CANARY not in str(err.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a root-owned key file")
def test_root_owned_group_readable_key_is_a_warning_like_libpq(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    os.chmod(certs / "client.app.key", 0o640)
    _seed_env(monkeypatch, certs)
    warnings = check_files(DatabaseTLSSettings().resolve())
    assert [w.rule_id for w in warnings] == ["VF306"]


def test_invalid_variables_are_one_line_naming_them_never_their_values(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    _seed_env(monkeypatch, certs, DB_PORT=CANARY, DB_ROTATION_MIN_CHECK_SECONDS="-1")
    with pytest.raises(UsageError) as caught:
        DatabaseTLSSettings()
    message = str(caught.value)
    assert "\n" not in message and CANARY not in message
    assert "DB_PORT" in message and "DB_ROTATION_MIN_CHECK_SECONDS" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_rotation_look_interval_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, certs: Path
) -> None:
    def interval(guard: Guard) -> float:
        guard.close()
        return guard.material.min_check_interval

    _seed_env(monkeypatch, certs)
    assert interval(Guard.from_env()) == 1.0  # the default
    _seed_env(monkeypatch, certs, DB_ROTATION_MIN_CHECK_SECONDS="0")
    assert interval(Guard.from_env()) == 0.0
    assert interval(Guard.from_env(min_check_interval=2.5)) == 2.5
