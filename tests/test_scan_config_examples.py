"""A copy-me example of a config file (`config.toml.example`) is read in the format of
the file it stands for: what it says is what deployments copy. Generated over
formats, example suffixes and contents: the example's findings are the real file's."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import EXAMPLE_SUFFIXES, ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

MODES = ("disable", "prefer", "require", "verify-full")
# (file name, content template): password {pw}, DSN query mode {mode}
FORMATS = (
    ("config.toml", '[database]\nuser = "app"\npassword = "{pw}"\nurl = "{dsn}"\n'),
    ("settings.yaml", "database:\n  password: {pw}\n  url: {dsn}\n"),
    ("app.ini", "[database]\npassword = {pw}\nurl = {dsn}\n"),
    ("config.json", '{{"database": {{"password": "{pw}", "url": "{dsn}"}}}}\n'),
    ("docker-compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {pw}\n"),
)


def _found(root: Path, name: str, text: str) -> list[tuple[str, int]]:
    path = root / name
    path.write_text(text, encoding="utf-8")
    outcome = scan_file(
        WalkedFile(path, name), ScanContext(root=root, policy=DEFAULT_POLICY), 10_000_000
    )
    return sorted((f.rule_id, f.line or 0) for f in outcome.findings)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fmt=st.sampled_from(FORMATS),
    suffix=st.sampled_from(EXAMPLE_SUFFIXES),
    upper=st.booleans(),
    password=st.sampled_from(("hunter2-db", "Pg-s3cret", "changeme")),
    mode=st.sampled_from(MODES),
)
def test_an_example_is_judged_as_the_file_it_stands_for(
    tmp_path: Path, fmt: tuple[str, str], suffix: str, upper: bool, password: str, mode: str
) -> None:
    name, template = fmt
    root = "&sslrootcert=/etc/ssl/ca.crt" if mode.startswith("verify") else ""
    dsn = f"postgresql://app@db.internal:5432/app?sslmode={mode}{root}"
    text = template.format(pw=password, dsn=dsn)
    real = _found(tmp_path, name, text)
    example = _found(tmp_path, name + (suffix.upper() if upper else suffix), text)
    assert example == real, (name, suffix)


def test_a_python_example_is_not_a_module(tmp_path: Path) -> None:
    code = 'import psycopg2\npsycopg2.connect("postgresql://app:hunter2x@db.internal/app")\n'
    assert _found(tmp_path, "settings.py", code)
    assert _found(tmp_path, "settings.py.example", code) == []
