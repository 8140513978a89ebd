"""Live ssl arguments are described the way the drivers will use them."""

from __future__ import annotations

import ssl

from verifyfull.conninfo import (
    SSLArgKind,
    VerifyMode,
    describe_context,
    describe_ssl_value,
    evaluate,
    from_asyncpg_kwargs,
)


def test_values_by_kind() -> None:
    assert describe_ssl_value(None).kind is SSLArgKind.ABSENT
    assert describe_ssl_value(True).flag is True
    assert describe_ssl_value("verify-full").mode == "verify-full"
    assert describe_ssl_value({}).empty is True
    assert describe_ssl_value({"a": 1}).empty is False
    assert describe_ssl_value(object()).kind is SSLArgKind.UNKNOWN


def test_default_context() -> None:
    facts = describe_context(ssl.create_default_context())
    assert facts.verify_mode is VerifyMode.REQUIRED and facts.check_hostname is True
    assert facts.minimum_version == "TLSv1.2"


def test_unverified_context() -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    facts = describe_context(ctx)
    assert facts.verifies_chain is False and facts.check_hostname is False


def test_context_with_no_roots_breaks() -> None:
    """PROTOCOL_TLS_CLIENT verifies, but with nothing loaded every handshake fails."""
    from verifyfull.conninfo import ContextFacts, SSLArg

    info = from_asyncpg_kwargs(
        {"dsn": "postgresql://u@h/db", "ssl": SSLArg.of_context(ContextFacts.client_context())}
    )
    verdict = evaluate(info, "asyncpg")
    assert verdict.breaks is not None and "CERTIFICATE_VERIFY_FAILED" in verdict.breaks


def test_unknown_ssl_is_undetermined_and_reports_no_transport_rule() -> None:
    info = from_asyncpg_kwargs({"dsn": "postgresql://u@h/db", "ssl": object()})
    verdict = evaluate(info, "asyncpg")
    assert not verdict.determined
    assert not {"VF101", "VF102", "VF103", "VF104"} & set(verdict.rule_ids)
