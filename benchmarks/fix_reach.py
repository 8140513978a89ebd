"""How much of what the scanner finds `verifyfull fix --unsafe-fixes` resolves, on real code.

    PYTHONPATH=src .venv/bin/python benchmarks/fix_reach.py --repos-dir benchmarks/corpus/.repos
    PYTHONPATH=src .venv/bin/python benchmarks/fix_reach.py --repo owner/name --json

Each repository of the labelled corpus (its directory in --repos-dir; --repo names one
directory there, labelled or not) is copied to a scratch directory with its `.git` (the
corpus itself is never written): the copy is the same git work tree, so the scanner walks
the files git tracks, as it does when accuracy.py scans the corpus in place (without
`.git`, .gitignore rules would hide tracked files such as a committed `.env`). One copy at
a time, removed after. It is scanned, fixed with every fix (`--unsafe-fixes`), written,
and scanned again. Per repository and in total:

- transport: the VF101-VF105 findings before, and how many are gone after (the share
  resolved; the target is >= 80 %);
- new: findings after the fix that were not there before (per file and rule; the target
  is 0);
- compile: changed Python files that no longer compile (target 0);
- again: files a second run would still change (target 0: a fix is a fixed point).

Only labelled repositories are measured: --repos-dir is shared (a labeller extracts its
held-out trees there before they have labels), and a figure that counted whatever else sits
in it would not be the corpus's. A labelled repository not extracted stops the run, as in
accuracy.py: a missing tree would lower the count without a word.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))

from labelset import LABELS_DIR, REPOS_DIR, LabelError, load_corpus

from verifyfull.fix.plan import plan_fixes
from verifyfull.scan import engine
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.settings import load

TRANSPORT = frozenset({"VF101", "VF102", "VF103", "VF104", "VF105"})


@dataclass(frozen=True)
class Reach:
    repo: str
    transport: int  # VF101-VF105 findings before
    resolved: int  # of those, gone after the fix
    new: int  # findings after that were not there before (per file and rule)
    compile_errors: int  # changed Python files that no longer compile
    again: int  # files a second run would change
    files_fixed: int
    seconds: float
    error: str = ""
    left: tuple[str, ...] = ()  # the transport findings still reported, path:line rule
    added: tuple[str, ...] = ()  # the new findings, path rule (xN when more than one)


def _keys(findings: Sequence[object]) -> Counter[tuple[str, str]]:
    return Counter((str(getattr(f, "path", "")), str(getattr(f, "rule_id", ""))) for f in findings)


def measure(source: Path, scratch: Path) -> Reach:
    name = source.name
    started = time.monotonic()
    root = scratch / name
    # the whole clone, .git too: git's view of the tree decides what the scanner walks
    shutil.copytree(source, root, symlinks=True)
    before = engine.scan([root], load(root), jobs=1).report.findings
    transport = [f for f in before if f.rule_id in TRANSPORT]
    try:
        plan = plan_fixes([root], load(root), unsafe=True)
    except Exception as exc:  # a benchmark reports a crash instead of stopping
        return Reach(name, len(transport), 0, 0, 0, 0, 0, time.monotonic() - started, repr(exc))
    broken = 0
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        if fix.relpath.endswith(".py"):
            # Loads for the Python it is written for: a 3.12 module (PEP 701 f-strings)
            # never compiled on an older interpreter; it must still parse as 3.12 code.
            try:
                parse_python(fix.after.decode(), fix.relpath)
            except (SyntaxError, ValueError, UnicodeDecodeError):
                broken += 1
    after = engine.scan([root], load(root), jobs=1).report.findings
    left = [f for f in after if f.rule_id in TRANSPORT]
    old, now = _keys(before), _keys(after)
    grown = {key: count - old[key] for key, count in now.items() if count > old[key]}
    new = sum(grown.values())
    again = plan_fixes([root], load(root), unsafe=True)
    return Reach(
        name,
        len(transport),
        max(0, len(transport) - len(left)),
        new,
        broken,
        len(again.fixes),
        len(plan.fixes),
        time.monotonic() - started,
        left=tuple(f"{f.path}:{f.line} {f.rule_id}" for f in left),
        added=tuple(
            f"{p} {r}" + (f" x{n}" if n > 1 else "") for (p, r), n in sorted(grown.items())
        ),
    )


def select_sources(
    repos_dir: Path, labels_dir: Path, repo: str | None
) -> tuple[list[Path], list[str], int]:
    """The directories to measure, the problems that stop the run, and how many directories
    of repos_dir were passed over for having no label file."""
    if repo:
        one = repos_dir / repo.replace("/", "__")
        return ([one], [], 0) if one.is_dir() else ([], [f"{one} is not a directory"], 0)
    try:
        corpus = load_corpus(labels_dir)
    except LabelError as exc:
        return [], [str(exc)], 0
    sources = [repos_dir / entry.slug for entry in corpus]
    problems = [
        f"{entry.repo} is not extracted in {source}; run benchmarks/corpus/fetch.py"
        for entry, source in zip(corpus, sources, strict=True)
        if not source.is_dir()
    ]
    labelled = {source.name for source in sources}
    unlabelled = sum(1 for p in repos_dir.iterdir() if p.is_dir() and p.name not in labelled)
    return sorted(sources), problems, unlabelled


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fix_reach", description=__doc__.splitlines()[0])
    parser.add_argument("--repos-dir", type=Path, default=REPOS_DIR, help="one directory per repo")
    parser.add_argument("--labels-dir", type=Path, default=LABELS_DIR, help="the label files")
    parser.add_argument("--repo", help="only this repository (owner/name or owner__name)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--verbose", action="store_true", help="list what is left per repo")
    args = parser.parse_args(argv)
    if not args.repos_dir.is_dir():
        print(f"fix_reach: error: {args.repos_dir} is not a directory", file=sys.stderr)
        return 2
    sources, problems, unlabelled = select_sources(args.repos_dir, args.labels_dir, args.repo)
    for problem in problems:
        print(f"fix_reach: error: {problem}", file=sys.stderr)
    if problems:
        return 2
    if unlabelled:
        print(
            f"fix_reach: {unlabelled} directories of {args.repos_dir} have no label file: "
            "not measured (--repo measures one)",
            file=sys.stderr,
        )
    results: list[Reach] = []
    for source in sources:
        # one copy at a time (a clone with its history can be large), removed after
        with tempfile.TemporaryDirectory(prefix="fix-reach-") as scratch:
            results.append(measure(source, Path(scratch)))
    total = sum(r.transport for r in results)
    resolved = sum(r.resolved for r in results)
    summary = {
        "repos": len(results),
        "transport": total,
        "resolved": resolved,
        "share": round(100 * resolved / total, 1) if total else 100.0,
        "new": sum(r.new for r in results),
        "compile_errors": sum(r.compile_errors for r in results),
        "again": sum(r.again for r in results),
        "errors": [r.repo for r in results if r.error],
    }
    if args.json:
        print(json.dumps({"summary": summary, "repos": [asdict(r) for r in results]}, indent=2))
        return 0
    for r in results:
        if not (r.transport or r.new or r.error):
            continue
        print(
            f"{r.repo:55} transport {r.resolved}/{r.transport}  new {r.new}  "
            f"compile {r.compile_errors}  again {r.again}  {r.seconds:.1f}s {r.error}"
        )
        if args.verbose:
            print("".join(f"    left: {item}\n" for item in r.left), end="")
            print("".join(f"    new: {item}\n" for item in r.added), end="")
    print(
        f"\n{summary['repos']} repos: {resolved} of {total} transport findings resolved "
        f"({summary['share']} %), {summary['new']} new, {summary['compile_errors']} "
        f"not compiling, {summary['again']} changed by a second run"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
