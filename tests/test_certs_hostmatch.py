"""Host-name matching (RFC 6125) and Go durations.

The table is checked twice: against hostmatch's verdict, and against a real
TLS handshake (OpenSSL through Python's ssl, in memory, no network) with a
verify-full client dialling that host, so the model and the real verifier
must agree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from verifyfull.certs.create import KeySpec, create_ca, create_node
from verifyfull.certs.duration import format_go_duration, parse_go_duration
from verifyfull.certs.hostmatch import HowMatched, dns_name_matches, match_host, parse_host
from verifyfull.certs.inspect import CertInfo, load_cert_infos
from verifyfull.certs.judge import judge_certificate
from verifyfull.errors import UsageError
from verifyfull.rules import Severity

EC = KeySpec("ec", 256)

# (SAN entries of node.crt, host dialled, how it matches)
CASES = [
    (["localhost"], "localhost", HowMatched.SAN),
    (["LocalHost"], "localhost", HowMatched.SAN),
    (["db.example.com"], "DB.Example.COM", HowMatched.SAN),
    (["db.example.com"], "db.example.com.", HowMatched.NONE),  # OpenSSL: literal compare
    (["db.example.com"], "db2.example.com", HowMatched.NONE),
    (["*.example.com"], "db.example.com", HowMatched.SAN),
    (["*.example.com"], "a.b.example.com", HowMatched.NONE),
    (["*.example.com"], "example.com", HowMatched.NONE),
    (["db*.example.com"], "db1.example.com", HowMatched.NONE),
    (["127.0.0.1"], "127.0.0.1", HowMatched.SAN),
    (["127.0.0.1"], "127.0.0.2", HowMatched.NONE),
    (["::1"], "::1", HowMatched.SAN),
    (["::1"], "[0:0::1]", HowMatched.SAN),
    (["localhost"], "127.0.0.1", HowMatched.NONE),
    (["127.0.0.1"], "localhost", HowMatched.NONE),
]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hostmatch")
    create_ca(root / "certs", root / "safe" / "ca.key", key=EC)
    return root / "certs", root / "safe" / "ca.key"


def _node(ca: tuple[Path, Path], sans: list[str], tmp: Path) -> Path:
    certs_dir, ca_key = ca
    create_node(sans, certs_dir, ca_key, key=EC, overwrite=True, name=tmp.name)
    return certs_dir / f"{tmp.name}.crt"


def _handshake(ca_crt: Path, crt: Path, key: Path, host: str) -> bool:
    """A real verify-full TLS handshake in memory: does OpenSSL accept `host`?"""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(crt, key)
    client_ctx = ssl.create_default_context(cafile=str(ca_crt))
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_client, from_server = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(to_client, from_client, server_hostname=host.strip("[]"))
    server = server_ctx.wrap_bio(to_server, from_server, server_side=True)
    for _ in range(10):
        try:
            client.do_handshake()
            return True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLCertVerificationError:
            return False
        to_server.write(from_client.read())
        with contextlib.suppress(ssl.SSLWantReadError):
            server.do_handshake()
        to_client.write(from_server.read())
    raise AssertionError("handshake did not finish")


@pytest.mark.parametrize(("sans", "host", "how"), CASES)
def test_match_host_agrees_with_openssl(
    ca: tuple[Path, Path], tmp_path: Path, sans: list[str], host: str, how: HowMatched
) -> None:
    crt = _node(ca, sans, tmp_path)
    info = load_cert_infos(crt)[0]
    assert match_host(info, host).how is how
    accepted = _handshake(ca[0] / "ca.crt", crt, crt.with_suffix(".key"), host)
    assert accepted is (how is HowMatched.SAN)


def _info(*, cn: str | None, dns: tuple[str, ...] = (), ips: tuple[str, ...] = ()) -> CertInfo:
    now = dt.datetime.now(dt.timezone.utc)
    return CertInfo(
        subject_cn=cn,
        subject=f"CN={cn}",
        issuer="CN=ca",
        serial="1",
        not_before=now,
        not_after=now,
        key_type="rsa",
        key_bits=2048,
        signature_hash="sha256",
        signature_algorithm="sha256WithRSAEncryption",
        fingerprint_sha256="",
        spki_sha256="",
        is_ca=False,
        dns_names=dns,
        ip_addresses=ips,
    )


def test_cn_counts_only_without_dns_sans() -> None:
    assert match_host(_info(cn="db.internal"), "db.internal").how is HowMatched.CN_ONLY
    with_san = _info(cn="db.internal", dns=("other.internal",))
    assert match_host(with_san, "db.internal").how is HowMatched.NONE


def test_ip_spelled_as_dns_name_is_reported_apart() -> None:
    info = _info(cn="node", dns=("10.0.0.5",))
    assert match_host(info, "10.0.0.5").how is HowMatched.DNS_SAN_FOR_IP
    assert not match_host(info, "10.0.0.5").ok


@pytest.mark.parametrize(
    ("pattern", "host", "ok"),
    [
        ("*.com", "example.com", False),
        ("*.*.example.com", "a.b.example.com", False),
        ("a.*.example.com", "a.b.example.com", False),
        ("*.example.com", ".example.com", False),
        ("", "example.com", False),
        ("bücher.example", "xn--bcher-kva.example", True),
    ],
)
def test_dns_name_matches_edge_cases(pattern: str, host: str, ok: bool) -> None:
    assert dns_name_matches(pattern, host) is ok


@pytest.mark.parametrize(
    ("text", "hours"),
    [("43800h", 43800), ("1h30m", 1.5), ("720h0m0s", 720), ("90m", 1.5), ("1.5h", 1.5)],
)
def test_parse_go_duration(text: str, hours: float) -> None:
    assert parse_go_duration(text) == dt.timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "10", "10d", "h", "0h", "-5h", "5h junk"])
def test_parse_go_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_go_duration(text)


def test_format_go_duration() -> None:
    assert format_go_duration(dt.timedelta(days=5 * 366)) == "43920h"
    assert format_go_duration(dt.timedelta(minutes=90)) == "1h30m"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("localhost", "localhost"),
        (" db.internal ", "db.internal"),
        ("*.example.com", "*.example.com"),
        ("[::1]", "::1"),
        ("0:0::1", "::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_parse_host(raw: str, parsed: str) -> None:
    assert parse_host(raw) == parsed


@pytest.mark.parametrize(
    "raw", ["", " ", "db:26257", "[db]", "http://db", "a b", "user@db", "db/x", "db;rm"]
)
def test_parse_host_refuses(raw: str) -> None:
    with pytest.raises(UsageError):
        parse_host(raw)


def test_create_node_writes_parsed_hosts(ca: tuple[Path, Path], tmp_path: Path) -> None:
    crt = _node(ca, ["bücher.example", "[::1]"], tmp_path)
    info = load_cert_infos(crt)[0]
    assert (info.dns_names, info.ip_addresses) == (("xn--bcher-kva.example",), ("::1",))
    assert match_host(info, "bücher.example").ok
    with pytest.raises(UsageError):
        _node(ca, ["db:26257"], tmp_path)


def test_cn_only_certificate_really_passes_openssl(ca: tuple[Path, Path], tmp_path: Path) -> None:
    """The CN fallback is real in OpenSSL (so the finding is medium, not 'refused')."""
    certs_dir, ca_key_path = ca
    ca_cert = x509.load_pem_x509_certificates((certs_dir / "ca.crt").read_bytes())[0]
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    crt, pem = tmp_path / "cn.crt", tmp_path / "cn.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    info = load_cert_infos(crt)[0]
    assert match_host(info, "localhost").how is HowMatched.CN_ONLY
    (finding,) = judge_certificate(info, hosts=["localhost"])
    assert finding.rule_id == "VF302" and finding.severity is Severity.MEDIUM
    assert _handshake(certs_dir / "ca.crt", crt, pem, "localhost")
    assert not _handshake(certs_dir / "ca.crt", crt, pem, "db.internal")
