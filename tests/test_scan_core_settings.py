"""[tool.verifyfull]: every key read, every bad value refused with the key named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from verifyfull.errors import UsageError
from verifyfull.rules import Severity
from verifyfull.scan.settings import load, parse_table


def test_all_keys_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """
[tool.verifyfull]
paths = ["src"]
exclude = ["tests/fixtures/"]
select = ["VF1", "weak-hash"]
ignore = "VF404"
fail-on = "Medium"
baseline = "base.json"
respect-gitignore = false
max-file-size = 1000
jobs = 3

[tool.verifyfull.severity]
hostname-not-verified = "critical"

[tool.verifyfull.policy]
allow_verify_ca = true
min-tls-version = "1.3"
""",
        encoding="utf-8",
    )
    (tmp_path / "src").mkdir()
    settings = load(tmp_path / "src")
    assert settings.project_root == tmp_path.resolve()
    assert settings.paths == ("src",)
    assert settings.exclude == ("tests/fixtures/",)
    assert "VF104" in settings.select and "VF403" in settings.select
    assert settings.ignore == frozenset({"VF404"})
    assert settings.fail_on is Severity.MEDIUM
    assert settings.baseline == tmp_path.resolve() / "base.json"
    assert settings.respect_gitignore is False
    assert settings.max_file_size == 1000 and settings.jobs == 3
    assert settings.severity == {"VF104": Severity.CRITICAL}
    assert settings.policy.allow_verify_ca is True
    assert settings.policy.min_tls_version == ssl.TLSVersion.TLSv1_3


def test_no_pyproject_or_no_table_gives_defaults(tmp_path: Path) -> None:
    assert load(tmp_path).fail_on is Severity.HIGH
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    assert load(tmp_path).source == tmp_path.resolve() / "pyproject.toml"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"paths": [1]}, "paths must be a list of strings"),
        ({"select": ["VF999"]}, "select: unknown rule 'VF999'"),
        ({"fail-on": "urgent"}, "fail-on: unknown severity 'urgent'"),
        ({"jobs": 0}, "jobs must be a positive integer"),
        ({"max-file-size": True}, "max-file-size must be a positive integer"),
        ({"respect-gitignore": "yes"}, "respect-gitignore must be true or false"),
        ({"severity": {"VF999": "low"}}, "unknown rule 'VF999'"),
        ({"severity": {"VF101": "loud"}}, "severity.VF101"),
        ({"policy": {"min_tls_version": "TLSv1"}}, "below TLSv1.2 is not allowed"),
        ({"policy": {"nonsense": 1}}, "unknown policy setting 'nonsense'"),
        ({"baseline": 3}, "baseline must be a file path string"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(
    tmp_path: Path, table: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_table(table, tmp_path, None)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_invalid_toml_is_one_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.verifyfull\n", encoding="utf-8")
    with pytest.raises(UsageError, match="is not valid TOML"):
        load(tmp_path)
