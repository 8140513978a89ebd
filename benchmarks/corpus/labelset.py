"""The corpus labels: one YAML file per repository under benchmarks/corpus/labels/.

Format (fixed; see docs/scan.md "Accuracy on real code"):

    repo: owner/name
    commit: <40 hex>
    source: "how the repository was found"
    tags: [fastapi, asyncpg]
    scope: [app/db.py]           # files (or directories, ending in /) labelled exhaustively
    labels:
      - {path: app/db.py, line: 12, end_line: 14, expect: VF102, why: "...", labelled: blind}

Loading validates every field and fails with one line naming the file, the
label and the fix: a typo in a label must not silently become a "miss".
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LABELS_DIR = Path(__file__).resolve().parent / "labels"
REPOS_DIR = Path(__file__).resolve().parent / ".repos"

SECURE = "secure"
RULE_ID = re.compile(r"VF[1-4]\d\d")
COMMIT = re.compile(r"[0-9a-f]{40}")
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+")
HOW_LABELLED = ("blind", "adjudicated")
TOP_KEYS = {"repo", "commit", "source", "tags", "scope", "labels"}
LABEL_KEYS = {"path", "line", "end_line", "expect", "why", "labelled"}


class LabelError(ValueError):
    """A label file that does not follow the format (message: problem; fix)."""


@dataclass(frozen=True)
class Label:
    path: str
    line: int
    end_line: int | None
    expect: str  # a rule id, or "secure": a connection site that must get no transport finding
    why: str
    labelled: str

    @property
    def is_secure(self) -> bool:
        return self.expect == SECURE


@dataclass(frozen=True)
class RepoLabels:
    repo: str
    commit: str
    source: str
    tags: tuple[str, ...]
    scope: tuple[str, ...]
    labels: tuple[Label, ...]
    file: Path

    @property
    def slug(self) -> str:
        """`owner__name`: the label file's stem and the extracted tree's directory name."""
        return self.repo.replace("/", "__")

    def in_scope(self, path: str) -> bool:
        return any(path == s or (s.endswith("/") and path.startswith(s)) for s in self.scope)


def _fail(file: Path, where: str, problem: str, fix: str) -> LabelError:
    return LabelError(f"{file.name}: {where}{problem}; {fix}")


def _text(file: Path, where: str, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, where, f"'{key}' is missing or empty", f"write {key}: <text>")
    return value


def _line(file: Path, where: str, data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(
            file, where, f"'{key}' must be a line number >= 1, not {value!r}", "fix the number"
        )
    return value


def _label(file: Path, index: int, data: Any) -> Label:
    where = f"label {index + 1}: "
    if not isinstance(data, dict):
        raise _fail(file, where, "is not a mapping", "write path/line/expect/why/labelled keys")
    unknown = set(data) - LABEL_KEYS
    if unknown:
        raise _fail(file, where, f"unknown key(s) {sorted(unknown)}", f"use {sorted(LABEL_KEYS)}")
    line = _line(file, where, data, "line")
    end_line = _line(file, where, data, "end_line") if "end_line" in data else None
    if end_line is not None and end_line < line:
        raise _fail(file, where, f"end_line {end_line} is before line {line}", "swap or fix them")
    expect = _text(file, where, data, "expect")
    if expect != SECURE and not RULE_ID.fullmatch(expect):
        raise _fail(
            file, where, f"expect {expect!r} is not a rule id", "write VF101..VF404 or secure"
        )
    labelled = _text(file, where, data, "labelled")
    if labelled not in HOW_LABELLED:
        raise _fail(file, where, f"labelled {labelled!r} is unknown", "write blind or adjudicated")
    return Label(
        path=_text(file, where, data, "path"),
        line=line,
        end_line=end_line,
        expect=expect,
        why=_text(file, where, data, "why"),
        labelled=labelled,
    )


def parse_repo_labels(file: Path, data: Any) -> RepoLabels:
    """Validate one label file's parsed YAML."""
    if not isinstance(data, dict):
        raise _fail(file, "", "is not a YAML mapping", "see the format in labelset.py")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(file, "", f"unknown key(s) {sorted(unknown)}", f"use {sorted(TOP_KEYS)}")
    repo = _text(file, "", data, "repo")
    if not REPO_NAME.fullmatch(repo):
        raise _fail(file, "", f"repo {repo!r} is not owner/name", "write the GitHub spelling")
    commit = str(data.get("commit", ""))
    if not COMMIT.fullmatch(commit):
        raise _fail(
            file, "", f"commit {commit!r} is not 40 lower-case hex digits", "write the full sha"
        )
    scope = data.get("scope") or []
    tags = data.get("tags") or []
    labels = data.get("labels") or []
    for key, value in (("scope", scope), ("tags", tags), ("labels", labels)):
        if not isinstance(value, list):
            raise _fail(file, "", f"'{key}' is not a list", f"write {key}: [...]")
    if not all(isinstance(s, str) and s for s in scope):
        raise _fail(file, "", "a scope entry is not a path", "list repository-relative paths")
    parsed = tuple(_label(file, i, item) for i, item in enumerate(labels))
    return RepoLabels(
        repo=repo,
        commit=commit,
        source=_text(file, "", data, "source"),
        tags=tuple(str(t) for t in tags),
        scope=tuple(scope),
        labels=parsed,
        file=file,
    )


def load_repo_labels(file: Path) -> RepoLabels:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LabelError(
            f"{file.name}: cannot read ({exc.__class__.__name__}); fix the YAML"
        ) from exc
    return parse_repo_labels(file, data)


def load_corpus(labels_dir: Path = LABELS_DIR, repo: str | None = None) -> list[RepoLabels]:
    """Every label file in labels_dir (sorted), or only the one for `repo` (owner/name)."""
    files = sorted(labels_dir.glob("*.yaml"))
    corpus = [load_repo_labels(f) for f in files]
    for entry in corpus:
        if entry.file.stem != entry.slug:
            raise LabelError(
                f"{entry.file.name}: holds repo {entry.repo}; rename it {entry.slug}.yaml"
            )
    if repo is not None:
        corpus = [c for c in corpus if c.repo.lower() == repo.lower() or c.slug == repo]
        if not corpus:
            raise LabelError(
                f"no label file for {repo!r} in {labels_dir}; give owner/name of a labelled repo"
            )
    return corpus


def tree_problems(entry: RepoLabels, tree: Path) -> list[str]:
    """What in entry's labels does not fit its extracted tree: a scope or label path that is
    not a file there, a line past the file's end. A label on a line that does not exist would
    otherwise count as a miss of the scanner."""
    problems = []
    lengths: dict[str, int] = {}
    for path in sorted({*entry.scope, *(label.path for label in entry.labels)}):
        file = tree / path
        if path.endswith("/") and path in entry.scope:
            if not file.is_dir():
                problems.append(f"{entry.file.name}: scope directory {path} is not in the tree")
        elif not file.is_file():
            problems.append(
                f"{entry.file.name}: {path} is not a file of {entry.repo}@{entry.commit[:12]}"
            )
        else:
            lengths[path] = len(file.read_bytes().splitlines())
    for label in entry.labels:
        last = label.end_line or label.line
        if label.path in lengths and last > lengths[label.path]:
            problems.append(
                f"{entry.file.name}: {label.path}:{last} is past the file's end "
                f"({lengths[label.path]} lines); fix the label"
            )
    return problems


def add_corpus_options(parser: argparse.ArgumentParser, repos_help: str) -> None:
    """The options fetch.py and accuracy.py share: which labels, which repository, where."""
    parser.add_argument("--repo", help="only this repository (owner/name)")
    parser.add_argument("--labels-dir", type=Path, default=LABELS_DIR, help="the label files")
    parser.add_argument("--repos-dir", type=Path, default=REPOS_DIR, help=repos_help)


def corpus_for_cli(prog: str, args: argparse.Namespace) -> list[RepoLabels] | None:
    """load_corpus for a command: None after one error line on stderr."""
    try:
        return load_corpus(args.labels_dir, repo=args.repo)
    except LabelError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return None
