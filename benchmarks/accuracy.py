"""Recall and precision of `verifyfull scan` on the labelled corpus of real repositories.

    .venv/bin/python benchmarks/corpus/fetch.py --mirror /work/.mirror   # extract the repos first
    PYTHONPATH=src .venv/bin/python benchmarks/accuracy.py                # text report
    PYTHONPATH=src .venv/bin/python benchmarks/accuracy.py --json --repo owner/name

Each extracted repository (benchmarks/corpus/.repos/<owner>__<name>/) is scanned with
`python -m verifyfull scan --format json` (the interpreter running this script, so PYTHONPATH
picks the code under test). A finding matches a label when the path and the rule are the same
and the finding's line is within the label's line..end_line (or within 2 lines of `line` when
the label has no end_line); each label takes at most one finding, the nearest. A rule label
left over then matches a finding of its rule that lists the label's place among its related
locations (issue 12 class 8: one finding where the deciding value is written, the calls that
use it related): the site is reported, as a place that finding acts through. Such matches are
counted apart (`through related`), so a run shows how many labels sat at a call.

- true positive: a rule label with a matching finding;
- false negative (miss): a rule label without one;
- false positive: a finding matching no label, inside a `scope` file (scope files are labelled
  exhaustively), including a second finding for an already matched label (a duplicate) and any
  transport finding on a site labelled `secure` (also listed as "secure site flagged").
Findings outside the scope files that match no label are not judged (counted only).
Families: transport VF10x (and `secure` sites), server VF2xx, certs VF3xx, credentials VF40x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))

from labelset import Label, RepoLabels, add_corpus_options, corpus_for_cli, tree_problems

FAMILIES = {"1": "transport", "2": "server", "3": "certs", "4": "credentials"}
FAMILY_ORDER = ("transport", "server", "certs", "credentials")
WINDOW = 2  # lines either side of `line` when a label has no end_line


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str = ""
    related: tuple[tuple[str, int], ...] = ()  # (path, line) of each related location


@dataclass(frozen=True)
class Matched:
    label: Label
    finding: Finding


@dataclass(frozen=True)
class RepoResult:
    repo: str
    tp: tuple[Matched, ...]  # through_related among them too
    fn: tuple[Label, ...]
    fp: tuple[Finding, ...]
    secure_flagged: tuple[Matched, ...]
    duplicates: tuple[Finding, ...]
    unjudged: tuple[Finding, ...]  # outside the scope files, matching no label
    scan_errors: tuple[str, ...] = ()
    through_related: tuple[Matched, ...] = ()  # labels met by a finding's related location


@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    secure: int = 0
    secure_flagged: int = 0

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None


@dataclass
class Summary:
    families: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in FAMILY_ORDER})

    @property
    def overall(self) -> Tally:
        total = Tally()
        for t in self.families.values():
            total.tp += t.tp
            total.fn += t.fn
            total.fp += t.fp
            total.secure += t.secure
            total.secure_flagged += t.secure_flagged
        return total


def family(rule: str) -> str:
    """transport / server / certs / credentials; a `secure` label is a transport site."""
    if rule == "secure":
        return "transport"
    return FAMILIES.get(rule[2:3], "other")


def window(label: Label) -> tuple[int, int]:
    if label.end_line is not None:
        return label.line, label.end_line
    return label.line - WINDOW, label.line + WINDOW


def _in_window(label: Label, path: str, line: int) -> bool:
    low, high = window(label)
    return path == label.path and low <= line <= high


def _distance(label: Label, finding: Finding) -> int | None:
    """How far finding is from label's line, or None when outside its window / other path."""
    low, high = window(label)
    if finding.path != label.path or not low <= finding.line <= high:
        return None
    return abs(finding.line - label.line)


def match(
    entry: RepoLabels, findings: Iterable[Finding], scan_errors: Sequence[str] = ()
) -> RepoResult:
    """Judge one repository's findings against its labels (one finding per label, nearest first)."""
    findings = list(findings)
    rule_labels = [lb for lb in entry.labels if not lb.is_secure]
    pairs = sorted(
        (d, li, fi)
        for li, lb in enumerate(rule_labels)
        for fi, f in enumerate(findings)
        if f.rule == lb.expect and (d := _distance(lb, f)) is not None
    )
    label_taken: dict[int, int] = {}
    finding_taken: set[int] = set()
    for _, li, fi in pairs:
        if li not in label_taken and fi not in finding_taken:
            label_taken[li] = fi
            finding_taken.add(fi)
    related_taken: dict[int, int] = {}
    for li, lb in enumerate(rule_labels):
        if li in label_taken:
            continue
        # One finding may act through many calls (each label at one of them is met),
        # but a finding no label has met yet comes first, then the nearest related place:
        # two calls on adjacent lines, each related to its own finding, meet their own.
        candidates = sorted(
            (fi in finding_taken, min(abs(n - lb.line) for p, n in f.related if p == lb.path), fi)
            for fi, f in enumerate(findings)
            if f.rule == lb.expect and any(_in_window(lb, p, n) for p, n in f.related)
        )
        via = candidates[0][2] if candidates else None
        if via is not None:
            related_taken[li] = via
            finding_taken.add(via)
    through = tuple(Matched(rule_labels[li], findings[fi]) for li, fi in related_taken.items())
    label_taken.update(related_taken)
    tp = tuple(Matched(rule_labels[li], findings[fi]) for li, fi in sorted(label_taken.items()))
    fn = tuple(lb for li, lb in enumerate(rule_labels) if li not in label_taken)
    matched_windows = {(li, fi) for _, li, fi in pairs}
    secure_labels = [lb for lb in entry.labels if lb.is_secure]
    fp: list[Finding] = []
    duplicates: list[Finding] = []
    flagged: list[Matched] = []
    unjudged: list[Finding] = []
    for fi, f in enumerate(findings):
        if fi in finding_taken:
            continue
        on_secure = next(
            (
                lb
                for lb in secure_labels
                if family(f.rule) == "transport" and _distance(lb, f) is not None
            ),
            None,
        )
        if on_secure is not None:
            flagged.append(Matched(on_secure, f))
            fp.append(f)
        elif any((li, fi) in matched_windows for li in label_taken):
            duplicates.append(f)
            fp.append(f)
        elif entry.in_scope(f.path):
            fp.append(f)
        else:
            unjudged.append(f)
    return RepoResult(
        repo=entry.repo,
        tp=tp,
        fn=fn,
        fp=tuple(fp),
        secure_flagged=tuple(flagged),
        duplicates=tuple(duplicates),
        unjudged=tuple(unjudged),
        scan_errors=tuple(scan_errors),
        through_related=through,
    )


def summarise(results: Iterable[RepoResult], corpus: Sequence[RepoLabels]) -> Summary:
    summary = Summary()
    fams = summary.families
    for r in results:
        for m in r.tp:
            fams[family(m.label.expect)].tp += 1
        for lb in r.fn:
            fams[family(lb.expect)].fn += 1
        for f in r.fp:
            fams.setdefault(family(f.rule), Tally()).fp += 1
        fams["transport"].secure_flagged += len({id(m.label) for m in r.secure_flagged})
    for entry in corpus:
        fams["transport"].secure += sum(1 for lb in entry.labels if lb.is_secure)
    return summary


def tree_relative(tree: Path, reported: str) -> str:
    """A reported path as a path inside tree (the labels' form).

    The scanner reports paths relative to its project root, the nearest directory holding
    pyproject.toml, setup.cfg or .git above the scanned path; an extracted repository has no
    .git, and one without the other two sits under this project, so its findings come back
    as `benchmarks/corpus/.repos/<slug>/app/db.py`.
    """
    path = Path(reported)
    base = tree.resolve()
    candidates = [path] if path.is_absolute() else [base / path]
    candidates += [ancestor / path for ancestor in base.parents if not path.is_absolute()]
    for candidate in candidates:
        try:
            inside = candidate.resolve().relative_to(base)
        except ValueError:
            continue
        if (base / inside).exists():
            return inside.as_posix()
    return path.as_posix()


def scan(tree: Path) -> tuple[list[Finding], list[str]]:
    """Run the scanner under test on tree; its findings and error entries."""
    done = subprocess.run(
        [sys.executable, "-m", "verifyfull", "scan", ".", "--format", "json"],
        cwd=tree,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(
            f"scan of {tree} gave no JSON (exit {done.returncode}): {last}"
        ) from None
    findings = [
        Finding(
            path=tree_relative(tree, f["path"]),
            line=int(f["line"] or 0),
            rule=f["rule"],
            message=f.get("message", ""),
            related=tuple(
                (tree_relative(tree, r["path"]), int(r["line"] or 0))
                for r in f.get("related", [])
                if r.get("path")
            ),
        )
        for f in report.get("findings", [])
    ]
    errors = [
        json.dumps(e, sort_keys=True) if not isinstance(e, str) else e
        for e in report.get("errors", [])
    ]
    return findings, errors


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def render_text(
    summary: Summary, results: Sequence[RepoResult], corpus: Sequence[RepoLabels]
) -> str:
    files = sum(len({lb.path for lb in e.labels} | set(e.scope)) for e in corpus)
    labels = sum(len(e.labels) for e in corpus)
    out = [f"corpus: {len(corpus)} repositories, {files} files, {labels} labels", ""]
    out.append("| family | TP | FN | FP | recall | precision | secure sites | secure flagged |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = [(name, summary.families[name]) for name in FAMILY_ORDER]
    rows += [(n, t) for n, t in summary.families.items() if n not in FAMILY_ORDER]
    for name, t in [*rows, ("overall", summary.overall)]:
        secure = (
            (str(t.secure), str(t.secure_flagged)) if name in ("transport", "overall") else ("", "")
        )
        out.append(
            f"| {name} | {t.tp} | {t.fn} | {t.fp} | {_pct(t.recall)} | {_pct(t.precision)} "
            f"| {secure[0]} | {secure[1]} |"
        )
    sections = (
        (
            "misses (false negatives)",
            [(r.repo, lb.path, lb.line, lb.expect, lb.why) for r in results for lb in r.fn],
        ),
        (
            "false positives",
            [(r.repo, f.path, f.line, f.rule, f.message) for r in results for f in r.fp],
        ),
        (
            "secure sites flagged",
            [
                (r.repo, m.finding.path, m.finding.line, m.finding.rule, m.label.why)
                for r in results
                for m in r.secure_flagged
            ],
        ),
    )
    for title, rows_ in sections:
        out += ["", f"{title}: {len(rows_)}"]
        out += [f"- {repo} {path}:{line} {rule}: {why}" for repo, path, line, rule, why in rows_]
    dups = sum(len(r.duplicates) for r in results)
    unjudged = sum(len(r.unjudged) for r in results)
    errors = sum(len(r.scan_errors) for r in results)
    through = sum(len(r.through_related) for r in results)
    out += [
        "",
        f"duplicates (counted as FP): {dups}; outside scope, not judged: {unjudged}; "
        f"scan errors: {errors}; true positives through a related location: {through}",
    ]
    return "\n".join(out)


def render_json(
    summary: Summary, results: Sequence[RepoResult], corpus: Sequence[RepoLabels]
) -> str:
    def tally(t: Tally) -> dict[str, object]:
        return {**asdict(t), "recall": t.recall, "precision": t.precision}

    return json.dumps(
        {
            "repositories": len(corpus),
            "labels": sum(len(e.labels) for e in corpus),
            "families": {n: tally(t) for n, t in summary.families.items()},
            "overall": tally(summary.overall),
            "repos": [
                {
                    "repo": r.repo,
                    "tp": [{"label": asdict(m.label), "finding": asdict(m.finding)} for m in r.tp],
                    "fn": [asdict(lb) for lb in r.fn],
                    "fp": [asdict(f) for f in r.fp],
                    "secure_flagged": [
                        {"label": asdict(m.label), "finding": asdict(m.finding)}
                        for m in r.secure_flagged
                    ],
                    "duplicates": [asdict(f) for f in r.duplicates],
                    "through_related": [
                        {"label": asdict(m.label), "finding": asdict(m.finding)}
                        for m in r.through_related
                    ],
                    "unjudged": [asdict(f) for f in r.unjudged],
                    "scan_errors": list(r.scan_errors),
                }
                for r in results
            ],
        },
        indent=2,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_options(parser, repos_help="where fetch.py extracted them")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    corpus = corpus_for_cli("accuracy", args)
    if corpus is None:
        return 2
    problems = []
    for entry in corpus:
        tree = args.repos_dir / entry.slug
        if not tree.is_dir():
            problems.append(
                f"{entry.repo} is not extracted in {tree}; run benchmarks/corpus/fetch.py"
            )
        else:
            problems += tree_problems(entry, tree)
    for problem in problems:
        print(f"accuracy: error: {problem}", file=sys.stderr)
    if problems:
        return 2
    results = []
    for entry in corpus:
        tree = args.repos_dir / entry.slug
        try:
            findings, errors = scan(tree)
        except RuntimeError as exc:
            print(f"accuracy: error: {exc}", file=sys.stderr)
            return 2
        results.append(match(entry, findings, errors))
    summary = summarise(results, corpus)
    print(
        render_json(summary, results, corpus)
        if args.json
        else render_text(summary, results, corpus)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
