"""benchmarks/fix_reach.py measures the labelled corpus, not whatever sits in --repos-dir.

The trees' directory is shared: a labeller extracts held-out repositories there before they
have labels. Real trees, real scans and fixes (no network).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path[:0] = [str(BENCH), str(BENCH / "corpus")]

fix_reach = importlib.import_module("fix_reach")

# one VF102 site (no sslmode: libpq's prefer) that the fixer resolves
INSECURE = 'import psycopg2\n\nconn = psycopg2.connect("postgresql://app@db.internal/shop")\n'


def _tree(repos: Path, slug: str) -> None:
    (repos / slug / "app").mkdir(parents=True)
    (repos / slug / "app" / "db.py").write_text(INSECURE)


def _label_file(labels: Path, repo: str) -> None:
    owner, name = repo.split("/")
    data = {
        "repo": repo,
        "commit": "0" * 40,
        "source": "test",
        "tags": [],
        "scope": ["app/db.py"],
        "labels": [
            {"path": "app/db.py", "line": 3, "expect": "VF102", "why": "w", "labelled": "blind"}
        ],
    }
    labels.mkdir(exist_ok=True)
    (labels / f"{owner}__{name}.yaml").write_text(yaml.safe_dump(data))


@pytest.fixture
def shared_repos(tmp_path: Path) -> tuple[Path, Path]:
    """A repos dir with one labelled tree and two that no label file names."""
    repos, labels = tmp_path / "repos", tmp_path / "labels"
    for slug in ("acme__shop", "heldout__one", "heldout__two"):
        _tree(repos, slug)
    _label_file(labels, "acme/shop")
    return repos, labels


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = fix_reach.main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else {}), err


def test_only_labelled_repositories_count_in_the_figure(
    shared_repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repos, labels = shared_repos
    code, report, err = _run(["--repos-dir", str(repos), "--labels-dir", str(labels)], capsys)
    assert code == 0
    assert [r["repo"] for r in report["repos"]] == ["acme__shop"]
    assert report["summary"]["repos"] == 1
    assert (report["summary"]["transport"], report["summary"]["resolved"]) == (1, 1)
    assert "2 directories of" in err and "have no label file" in err  # said, not silent


def test_repo_still_measures_one_unlabelled_tree(
    shared_repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repos, labels = shared_repos
    argv = ["--repos-dir", str(repos), "--labels-dir", str(labels), "--repo", "heldout/one"]
    code, report, _ = _run(argv, capsys)
    assert code == 0
    assert [r["repo"] for r in report["repos"]] == ["heldout__one"]
    code, _, err = _run([*argv[:4], "--repo", "nobody/here"], capsys)
    assert code == 2 and "nobody__here is not a directory" in err


def test_a_labelled_repository_not_extracted_stops_the_run(
    shared_repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repos, labels = shared_repos
    _label_file(labels, "gone/away")  # labelled, never extracted: would lower the count
    code, _, err = _run(["--repos-dir", str(repos), "--labels-dir", str(labels)], capsys)
    assert code == 2
    assert "fix_reach: error: gone/away is not extracted in" in err


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_each_copy_keeps_its_git_so_tracked_ignored_files_are_measured(
    shared_repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A committed `.env` that .gitignore names is tracked: the scanner walks it in the
    corpus (accuracy.py scans in place), so fix_reach must too. A copy without `.git` lets
    the ignore rule hide it (one of the two findings, on the old copy step)."""
    repos, labels = shared_repos
    tree = repos / "acme__shop"
    (tree / ".gitignore").write_text(".env\n")
    (tree / ".env").write_text("DATABASE_URL=postgresql://app@db.internal/shop\n")
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "add", "-f", ".env")
    _git(tree, "commit", "-qm", "tracked .env")
    code, report, _ = _run(["--repos-dir", str(repos), "--labels-dir", str(labels)], capsys)
    assert code == 0
    assert report["summary"]["transport"] == 2  # app/db.py and the tracked .env
    assert (tree / ".env").read_text() == "DATABASE_URL=postgresql://app@db.internal/shop\n"
