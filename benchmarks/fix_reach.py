"""How much of what the scanner finds `verifyfull fix --unsafe-fixes` resolves, on real code.

    PYTHONPATH=src .venv/bin/python benchmarks/fix_reach.py --repos-dir benchmarks/corpus/.repos
    PYTHONPATH=src .venv/bin/python benchmarks/fix_reach.py --repo owner/name --json

The repositories are the labelled corpus's (one label file each, as accuracy.py takes them;
`--all` takes every directory of --repos-dir). Each is copied to a scratch directory with
its `.git` (the corpus itself is never written): the copy is the same git work tree, so the
scanner walks the files git tracks, as it does when accuracy.py scans the corpus in place
(without `.git`, .gitignore rules would hide tracked files such as a committed `.env`). It
is scanned, fixed with every fix (`--unsafe-fixes`), written, and scanned again. Per
repository and in total:

- transport: the VF101-VF105 findings before, and how many are gone after (the share
  resolved; the target is >= 80 %);
- new: findings after the fix that were not there before (per file and rule; the target
  is 0);
- compile: changed Python files that no longer compile (target 0);
- again: files a second run would still change (target 0: a fix is a fixed point).
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

from labelset import add_corpus_options, corpus_for_cli

from verifyfull.fix.plan import plan_fixes
from verifyfull.scan import engine
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
            try:
                compile(fix.after, fix.relpath, "exec")
            except SyntaxError:
                broken += 1
    after = engine.scan([root], load(root), jobs=1).report.findings
    left = [f for f in after if f.rule_id in TRANSPORT]
    old, now = _keys(before), _keys(after)
    new = sum(max(0, count - old[key]) for key, count in now.items())
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
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fix_reach", description=__doc__.splitlines()[0])
    add_corpus_options(parser, repos_help="one git clone per repository")
    parser.add_argument("--all", action="store_true", help="every directory of --repos-dir")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--verbose", action="store_true", help="list what is left per repo")
    args = parser.parse_args(argv)
    if not args.repos_dir.is_dir():
        print(f"fix_reach: error: {args.repos_dir} is not a directory", file=sys.stderr)
        return 2
    if args.all:
        sources = sorted(p for p in args.repos_dir.iterdir() if p.is_dir())
        if args.repo:
            sources = [p for p in sources if p.name == args.repo.replace("/", "__")]
    else:
        corpus = corpus_for_cli("fix_reach", args)
        if corpus is None:
            return 2
        sources = [args.repos_dir / entry.slug for entry in corpus]
        missing = [s.name for s in sources if not s.is_dir()]
        if missing:
            print(
                f"fix_reach: error: not extracted in {args.repos_dir}: {', '.join(missing)}; "
                "run benchmarks/corpus/fetch.py",
                file=sys.stderr,
            )
            return 2
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
    print(
        f"\n{summary['repos']} repos: {resolved} of {total} transport findings resolved "
        f"({summary['share']} %), {summary['new']} new, {summary['compile_errors']} "
        f"not compiling, {summary['again']} changed by a second run"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
