"""Issue 12 class 7: a relative sslrootcert kept out of git by .gitignore is presumed
present where the program runs (rootfiles.kept_out_of_git). Which paths .gitignore
keeps out is git's own answer: walk.gitignored is checked against `git check-ignore`
on generated trees of .gitignore files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings
from verifyfull.scan.walk import gitignored

_PATTERNS = ["*.pem", "*.crt", "certs/", "/certs", "ca.*", "!public.pem", "!*.crt", "deep/**", "x"]
_PATHS = [
    "ca.pem",
    "public.pem",
    "ca.crt",
    "certs/ca.pem",
    "certs/ca.crt",
    "app/certs/root.crt",
    "app/ca.pem",
    "deep/a/b.crt",
    "app/x",
    "root.cert",
]


@st.composite
def ignore_trees(draw: st.DrawFn) -> tuple[dict[str, list[str]], str]:
    """.gitignore files at the root and in app/ (a few patterns each) and a path."""
    files = {
        directory: draw(st.lists(st.sampled_from(_PATTERNS), max_size=4))
        for directory in ("", "app")
    }
    return files, draw(st.sampled_from(_PATHS))


def _git_ignores(root: Path, path: str) -> bool:
    done = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", path],
        cwd=root,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=ignore_trees())
def test_gitignored_agrees_with_git(
    tree: tuple[dict[str, list[str]], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    files, path = tree
    root = tmp_path_factory.mktemp("ignores")
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    for directory, patterns in files.items():
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / ".gitignore").write_text("\n".join(patterns) + "\n")
    assert gitignored(root, root / path) == _git_ignores(root, path), (files, path)


def _scan(root: Path, ignore: str, root_cert: str) -> list[tuple[str, int]]:
    (root / ".gitignore").write_text(ignore)
    (root / "app.py").write_text(
        "import psycopg2\n"
        f"psycopg2.connect(host='db.internal', sslmode='require', sslrootcert={root_cert!r})\n"
    )
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    return [(f.rule_id, f.line or 0) for f in result.report.findings]


def test_a_kept_out_root_is_judged_present_and_the_evidence_says_so(tmp_path: Path) -> None:
    assert _scan(tmp_path, "*.pem\n", "server-ca.pem") == [("VF104", 2)]
    result = engine.scan([tmp_path], ScanSettings(project_root=tmp_path), jobs=1)
    assert "presumed present" in (result.report.findings[0].evidence or "")


def test_a_root_no_ignore_rule_keeps_out_is_judged_absent(tmp_path: Path) -> None:
    assert _scan(tmp_path, "*.pem\n!server-ca.pem\n", "server-ca.pem") == [("VF103", 2)]
