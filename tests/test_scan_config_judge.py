"""judge.py and the small parsers, rule by rule, on values written inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.judge import (
    go_truthy,
    judge_command,
    judge_server_setting,
    server_cipher_reasons,
    worth_judging,
)
from verifyfull.scan.config.model import Command, Word
from verifyfull.scan.config.pg_hba import parse_hba

CANARY = "canary-Pw-41aa"


def _src(text: str) -> SourceFile:
    return SourceFile(Path("/x/f"), "f", text, text.encode())


def _command(*words: str, hint: str = "") -> Command:
    return Command(tuple(Word(w, 1, i + 1) for i, w in enumerate(words)), hint)


def test_command_evidence_never_holds_a_password() -> None:
    command = _command(
        "cockroach", "start-single-node", "--insecure", "--password", CANARY,
        f"--store=postgresql://u:{CANARY}@h/d", f"PGPASSWORD={CANARY}",
    )  # fmt: skip
    found = judge_command(_src(""), command, DEFAULT_POLICY)
    assert [f.rule_id for f in found] == ["VF201"]
    assert CANARY not in found[0].evidence


@pytest.mark.parametrize(
    ("words", "hint", "rules"),
    [
        (("cockroach", "start", "--insecure"), "", ["VF201"]),
        (("start", "--insecure"), "cockroachdb/cockroach:v24.1", ["VF201"]),
        (("cockroach", "sql", "--insecure"), "", ["VF101"]),  # a plaintext client, not a node
        (("curl", "--insecure", "https://x"), "", []),
        (("cockroach", "start", "--insecure=false"), "", []),
        (("anything", "--accept-sql-without-tls"), "", ["VF202"]),
        (("postgres", "-c", "ssl=off"), "", ["VF201"]),
        (("postgres", "--ssl=off"), "", ["VF201"]),
        (("postgres", "-c", "ssl_min_protocol_version=TLSv1.1"), "", ["VF203"]),
        (("postgres", "-c", "ssl_ciphers=ECDHE+AESGCM"), "", []),
        (("-c", "password_encryption=md5"), "postgres:15", ["VF403"]),
        (("nginx", "-c", "ssl=off"), "", []),
    ],
)
def test_commands(words: tuple[str, ...], hint: str, rules: list[str]) -> None:
    found = judge_command(_src(""), _command(*words, hint=hint), DEFAULT_POLICY)
    assert [f.rule_id for f in found] == rules


def test_cockroach_booleans_follow_go_parsebool() -> None:
    assert all(go_truthy(v) for v in ("1", "t", "T", "TRUE", "true", "True", '"true"'))
    assert not any(go_truthy(v) for v in ("yes", "on", "y", "tRuE", "0", "false", ""))


@pytest.mark.parametrize(
    ("cipher_string", "weak"),
    [
        ("ECDHE+AESGCM:ECDHE+CHACHA20", False),
        ("HIGH:MEDIUM:+3DES:!aNULL", True),  # PostgreSQL's default: CBC, RSA key exchange
        ("AES256-SHA", True),
        ("ECDHE-RSA-AES128-GCM-SHA256", False),
        ("bad\0string", False),  # unreadable: nothing claimed, no crash
    ],
)
def test_server_cipher_strings(cipher_string: str, weak: bool) -> None:
    assert bool(server_cipher_reasons(cipher_string)) is weak


def test_server_settings_both_ways() -> None:
    src = _src("")
    assert [f.rule_id for f in judge_server_setting(src, "ssl", "'off'", 1, 1)] == ["VF201"]
    assert judge_server_setting(src, "ssl", "on", 1, 1) == []
    assert judge_server_setting(src, "ssl_min_protocol_version", "TLSv1.3", 1, 1) == []
    assert judge_server_setting(src, "ssl_min_protocol_version", "nonsense", 1, 1) == []
    assert judge_server_setting(src, "password_encryption", "scram-sha-256", 1, 1) == []


def test_only_settings_that_can_matter_are_worth_judging() -> None:
    assert worth_judging("PGSSLMODE", "disable")
    assert worth_judging("db_sslmode", "prefer")
    assert worth_judging("anything", "postgresql://h/d")
    assert worth_judging("DB_PASS", "x")
    assert not worth_judging("DB_PASSWORD", "  ")
    assert not worth_judging("COMPASS", "north")
    assert not worth_judging("title", "Orders")


def test_pg_hba_fields() -> None:
    lines = parse_hba(
        'host "all" all 192.168.0.0 255.255.0.0 md5\n'
        "hostssl all all all cert clientcert=verify-full\n"
        "include_dir conf.d\n"
        "local all postgres peer\n"
    )
    assert [(e.kind, e.address, e.method) for e in lines] == [
        ("host", "192.168.0.0/16", "md5"),
        ("hostssl", "all", "cert"),
        ("local", "", "peer"),
    ]
    assert lines[0].method_column == len('host "all" all 192.168.0.0 255.255.0.0 ') + 1


def test_a_repeated_value_is_judged_once_and_placed_at_every_line(tmp_path: Path) -> None:
    """The verdict of a value is kept per (value, file environment, policy); every
    line still gets its own finding at its own place, and another environment
    (PGSSLROOTCERT set in the file) gets its own verdict."""
    from verifyfull.scan import engine
    from verifyfull.scan.settings import load

    url = "DATABASE_URL=postgresql://app@db.internal/app?sslmode=require\n"
    (tmp_path / "a.env").write_text(url * 3, encoding="utf-8")
    (tmp_path / "b.env").write_text("PGSSLROOTCERT=/certs/ca.crt\n" + url, encoding="utf-8")
    (tmp_path / "c.env").write_text(url.replace("require", "verify-full"), encoding="utf-8")
    report = engine.scan([tmp_path], load(tmp_path), jobs=1).report
    placed = sorted((f.path, f.line, f.rule_id) for f in report.findings)
    assert placed == [
        ("a.env", 1, "VF103"),
        ("a.env", 2, "VF103"),
        ("a.env", 3, "VF103"),
        ("b.env", 2, "VF104"),  # libpq reads the file's root: chain checked, host name not
    ]  # c.env: verify-full, nothing to report
