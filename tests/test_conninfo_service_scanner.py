"""The scanner's pg_service.conf check reads the file as libpq does (issue 14 class 4):
one reading, conninfo.service, with libpq itself as the oracle on generated files.

For every group a generated file holds (and every name the grammar uses), libpq
(psycopg-binary 3.3.9's libpq 18, PQconnectStart with service=NAME and
PGSERVICEFILE pointing at the file) either refuses the group, or settles on
values; the scanner's reading (scan.config.pgpass.service_groups +
conninfo.service.libpq_service_section) must refuse the same groups, find the
same groups, and give the same host, port, dbname, user, sslmode and
sslrootcert for what the group sets. The scanner's findings then carry a VF105
on exactly the groups libpq refuses (';' comments and upper-case keys among them,
which the old reading accepted).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_differential import _SETTINGS, driver_environment
from test_conninfo_differential_service import NAMES, service_file
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.service import first_values, libpq_service_section
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config.pgpass import check_pg_service, service_groups

pq = pytest.importorskip("psycopg.pq")

FILES = int(os.environ.get("VERIFYFULL_SERVICE_FILES", "300"))
_COMPARED = ("host", "port", "dbname", "user", "sslmode", "sslrootcert", "hostaddr")


def _libpq_group(name: str) -> dict[str, str | None] | str | None:
    """libpq's values for service `name` (PGSERVICEFILE set), its refusal text, or None
    when the file has no such group."""
    conninfo = "service='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    conn = pq.PGconn.connect_start(conninfo.encode())
    try:
        message = conn.error_message.decode(errors="replace")
        values = {o.keyword.decode(): (o.val.decode() if o.val else None) for o in conn.info}
    finally:
        conn.finish()
    if "definition of service" in message:
        return None
    if "service file" in message:
        return message.strip()
    return values


def _disagreement(text: str, path: Path) -> str | None:
    groups = {g.name for g in service_groups(text)}
    for name in sorted(groups | set(NAMES)):
        real = _libpq_group(name)
        try:
            ours = libpq_service_section(text, name, str(path))
        except ConnStringError:
            if not isinstance(real, str):
                return f"[{name}]: the scanner refuses what libpq reads ({real})"
            continue
        if isinstance(real, str):
            return f"[{name}]: libpq refuses ({real}), the scanner reads {ours}"
        if (real is None) != (ours is None) or (ours is not None) != (name in groups):
            return f"[{name}]: libpq finds {real is not None}, the scanner {ours is not None}"
        if real is None or ours is None:
            continue
        values = first_values(ours)
        for key in set(_COMPARED) & set(values):  # what the group sets; defaults are libpq's
            if real.get(key) != values[key] and not (real.get(key) is None and not values[key]):
                return f"[{name}] {key}: libpq {real.get(key)!r}, the scanner {values[key]!r}"
    return None


def test_the_scanner_reads_service_files_as_libpq(tmp_path: Path) -> None:
    path = tmp_path / "pg_service.conf"
    problems: list[str] = []
    seen = {"files": 0}

    @settings(_SETTINGS, max_examples=FILES)
    @given(service_file())
    def run(text: str) -> None:
        text = text.replace("{ca}", "/etc/ca.crt")
        path.write_text(text)
        seen["files"] += 1
        if (problem := _disagreement(text, path)) is not None and len(problems) < 5:
            problems.append(f"{text!r}: {problem}")

    with driver_environment(tmp_path):
        os.environ["PGSERVICEFILE"] = str(path)
        os.environ["PGSYSCONFDIR"] = str(tmp_path / "nosuch")
        run()
    assert seen["files"] >= min(300, FILES)
    assert not problems, "\n".join(problems)


def _scan(tmp_path: Path, text: str) -> list[tuple[str, int]]:
    path = tmp_path / "pg_service.conf"
    path.write_text(text)
    src = SourceFile(path=path, relpath="pg_service.conf", text=text)
    ctx = ScanContext(root=tmp_path)
    return [(f.rule_id, f.line or 0) for f in check_pg_service(src, ctx)]


@pytest.mark.parametrize(
    "line",
    [
        "; sslmode=disable",  # ';' is no comment for libpq
        "SSLMODE=disable",  # keys are case-sensitive
        "sslmode = disable",  # no blanks before '='
        "bogus=1",  # no such keyword
        "service=other",  # nested
    ],
)
def test_a_group_libpq_refuses_is_a_vf105_on_its_header(tmp_path: Path, line: str) -> None:
    text = f"[a]\nhost=db.internal\nsslmode=verify-full\nsslrootcert=/ca\n{line}\n[b]\nhost=x\n"
    found = _scan(tmp_path, text)
    assert ("VF105", 1) in found
    assert not [rule for rule, at in found if at == 1 and rule != "VF105"]


def test_groups_libpq_reads_are_judged_as_before(tmp_path: Path) -> None:
    """'#' comments, the first value of a key, lines before any group ignored."""
    text = (
        "sslmode=disable\n[a]\n# note\nhost=db.internal\nsslmode=require\nsslmode=disable\n"
        "[a]\nsslmode=disable\n"
    )
    found = _scan(tmp_path, text)
    assert ("VF103", 5) in found  # require, the first value; the second [a] is never read
    assert not [rule for rule, _ in found if rule in ("VF101", "VF105")]


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_gives_findings_never_an_exception(text: str) -> None:
    for group in service_groups(text):
        try:
            libpq_service_section(text, group.name, "f")
        except ConnStringError as exc:
            assert "service file" in exc.problem
