"""conninfo takes the driver versions as an input (issue 14): what changed between
libpq 15-18 and SQLAlchemy 1.3/1.4 is read at the version given, for every keyword
and version (generated), never for one example."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.conninfo import Environment, evaluate, from_sqlalchemy_url, parse_dsn
from verifyfull.conninfo.libpq import ConnStringError, libpq_reading
from verifyfull.conninfo.libpq_options import option_refusal
from verifyfull.conninfo.versions import (
    ALL_LIBPQ_KEYWORDS,
    NEWEST_LIBPQ,
    OLDEST_LIBPQ,
    PINNED,
    DriverVersions,
    LibpqVersion,
    libpq_since,
)
from verifyfull.scan import engine
from verifyfull.scan.project_versions import pinned_versions
from verifyfull.scan.settings import load

SAFE = "host=db.internal sslmode=verify-full sslrootcert=/etc/ca.crt"
majors = st.integers(OLDEST_LIBPQ, NEWEST_LIBPQ).map(LibpqVersion)
keywords = st.sampled_from(sorted(ALL_LIBPQ_KEYWORDS))
drivers = st.sampled_from(["psycopg", "psycopg2"])


def _versions(driver: str, libpq: LibpqVersion) -> DriverVersions:
    field = "psycopg2_libpq" if driver == "psycopg2" else "psycopg_libpq"
    return DriverVersions(**{field: libpq})  # type: ignore[arg-type]


def test_the_defaults_are_the_pins() -> None:
    text = (Path(__file__).parents[1] / "requirements/constraints.txt").read_text()
    assert "psycopg-binary==3.3.9" in text and "psycopg2-binary==2.9.13" in text
    assert "SQLAlchemy==2.0.58" in text
    assert DriverVersions(LibpqVersion(18), LibpqVersion(17), (2, 0, 58)) == PINNED


@settings(max_examples=300, deadline=None)
@given(libpq=majors, key=keywords, driver=drivers)
def test_a_keyword_the_version_lacks_is_a_predicted_failure(
    libpq: LibpqVersion, key: str, driver: str
) -> None:
    """Known to that libpq: read; added later: refused before connecting, VF105, naming
    the version that added it; the same for the URL form."""
    versions = _versions(driver, libpq)
    value = "x" if key not in ("host", "port", "hostaddr", "sslmode", "sslrootcert") else None
    if value is None:
        return  # the connection fields themselves are in every version
    for text in (f"{SAFE} {key}={value}", f"postgresql://db.internal/app?{key}={value}"):
        info = parse_dsn(text, libpq_version=libpq)
        verdict = evaluate(info, driver, Environment.empty(), versions=versions)
        refused = "invalid connection option" in (verdict.breaks or "") or "invalid URI query" in (
            verdict.breaks or ""
        )
        assert refused == (key not in libpq.keywords), (text, verdict.breaks)
        if key not in libpq.keywords:
            assert "VF105" in verdict.rule_ids
            assert f"libpq {libpq_since(key)}+" in " ".join(f.message for f in verdict.findings)


@settings(max_examples=200, deadline=None)
@given(
    libpq=majors,
    user=st.text("ab %", min_size=1, max_size=5),
    host=st.text("hq ", min_size=1, max_size=4),
)
def test_blanks_in_a_url_are_kept_before_18_and_trimmed_or_refused_from_18(
    libpq: LibpqVersion, user: str, host: str
) -> None:
    text = f"postgresql://{user.replace('%', '%25')}@{host}/db"
    try:
        read = libpq_reading(text, libpq)
    except ConnStringError as exc:
        assert libpq.trims_url_blanks and "spaces" in exc.problem
        assert " " in user.strip(" ") or " " in host.strip(" ")
        return
    if libpq.trims_url_blanks:
        assert read["user"] == user.strip(" ") or not user.strip(" ")
    else:
        assert read["user"] == user and read["host"] == host


@settings(max_examples=60, deadline=None)
@given(libpq=majors, mode=st.sampled_from(["", " sslmode=require", " sslmode=verify-full"]))
def test_sslrootcert_system_is_the_trust_store_from_16(libpq: LibpqVersion, mode: str) -> None:
    text = f"host=db.internal sslrootcert=system{mode}"
    verdict = evaluate(
        parse_dsn(text, libpq_version=libpq),
        "psycopg",
        Environment.empty(),
        versions=_versions("psycopg", libpq),
    )
    if libpq.system_root:
        # verify-full forced: any weaker written mode is refused.
        assert (verdict.breaks is not None) == (mode == " sslmode=require")
        assert verdict.breaks is not None or verdict.verifies_hostname
    else:  # a file named "system": no mode means prefer
        assert verdict.breaks is None
        assert verdict.verifies_hostname == (mode == " sslmode=verify-full")


@settings(max_examples=100, deadline=None)
@given(
    version=st.tuples(st.integers(0, 3), st.integers(0, 9), st.integers(0, 60)),
    dialect=st.sampled_from(["", "+psycopg2", "+asyncpg", "+psycopg"]),
)
def test_sqlalchemy_loads_postgres_alias_only_before_1_4(
    version: tuple[int, int, int], dialect: str
) -> None:
    info = from_sqlalchemy_url(
        f"postgres{dialect}://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.crt"
    )
    verdict = evaluate(
        info, "sqlalchemy", Environment.empty(), versions=DriverVersions(sqlalchemy=version)
    )
    removed = "NoSuchModuleError" in (verdict.breaks or "")
    assert removed == (version >= (1, 4))
    assert "VF105" in verdict.rule_ids or not removed


@pytest.mark.parametrize(("driver", "refused"), [("psycopg2", True), ("psycopg", False)])
def test_the_scanner_reads_each_driver_at_its_own_libpq(
    tmp_path: Path, driver: str, refused: bool
) -> None:
    """psycopg2-binary 2.9.13's libpq 17 has no sslkeylogfile; psycopg-binary's 18 has."""
    pinned_versions.cache_clear()
    (tmp_path / "app.py").write_text(
        f'import {driver}\n\nconn = {driver}.connect("{SAFE} sslkeylogfile=/tmp/keys")\n',
        encoding="utf-8",
    )
    findings = engine.scan([tmp_path], load(tmp_path), jobs=1).report.findings
    assert ("VF105" in {f.rule_id for f in findings}) == refused


@settings(max_examples=150, deadline=None)
@given(libpq=majors, keys=st.lists(keywords, min_size=1, max_size=3), driver=drivers)
def test_the_corrected_form_is_one_that_version_reads(
    libpq: LibpqVersion, keys: list[str], driver: str
) -> None:
    """The corrected string keeps only options the driver's libpq has, so that libpq
    reads it (a kept 18-only keyword would make psycopg2's 17 refuse the fix)."""
    extra = " ".join(f"{k}=x" for k in keys if k not in ("host", "port", "hostaddr", "service"))
    text = f"host=db.internal sslmode=require {extra}"
    versions = _versions(driver, libpq)
    verdict = evaluate(
        parse_dsn(text, libpq_version=libpq), driver, Environment.empty(), versions=versions
    )
    read = libpq_reading(verdict.corrected, libpq)
    assert read["sslmode"] == "verify-full"


@settings(max_examples=150, deadline=None)
@given(
    libpq=majors,
    driver=drivers,
    auth=st.lists(
        st.sampled_from(["oauth", "password", "scram-sha-256", "none", "md5"]),
        min_size=1,
        max_size=2,
        unique=True,
    ),
    negate=st.booleans(),
)
def test_the_corrected_form_keeps_no_option_that_version_refuses(
    libpq: LibpqVersion, driver: str, auth: list[str], negate: bool
) -> None:
    """The corrected form drops the options the driver's own libpq refuses, not libpq
    18's: require_auth=oauth is accepted from 18 only, so psycopg2's libpq 17 (or a
    pinned older one) would refuse a fix that kept it (require_auth: 16+)."""
    value = ",".join(f"!{m}" if negate else m for m in auth)
    text = f"host=db.internal sslmode=require require_auth={value}"
    versions = _versions(driver, libpq)
    verdict = evaluate(
        parse_dsn(text, libpq_version=libpq), driver, Environment.empty(), versions=versions
    )
    fixed = parse_dsn(verdict.corrected, libpq_version=libpq)
    assert option_refusal(dict(fixed.params), Environment.empty(), libpq_major=libpq.major) is None
    kept = option_refusal({"require_auth": value}, Environment.empty(), libpq_major=libpq.major)
    assert (fixed.param("require_auth") is not None) == (kept is None and libpq.major >= 16)
