"""The prefilter against the full analysis on real code: sound, and how much it passes for nothing.

    .venv/bin/python benchmarks/prefilter_sound.py                    # the corpus trees
    .venv/bin/python benchmarks/prefilter_sound.py --tree /tmp/speed/treedj --tree DIR

tests/test_scan_python_prefilter.py proves filtered == full analysis on the fixtures,
the examples and generated programs in CI. This runs the same comparison on every
`.py` file of real trees (the labelled corpus, benchmarks/corpus/.repos, fetched by
benchmarks/corpus/fetch.py; the scan benchmark tree), which CI does not hold:

- unsound: a file whose filtered findings differ from the full analysis (every rule
  family on, every body walked). Must be 0; each is listed.
- passed for nothing: files the prefilter hands to the analysis that then find
  nothing, with the analysis time they cost, by the families the prefilter named.
  This is where the scan's time goes on a large tree (docs/scan.md, "Benchmark").

Each file is analysed in its own tree (the tree is the project root, as a scan of it
would have it). Exit status 1 when a file is unsound.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from verifyfull.policy import Policy
from verifyfull.scan.api import CheckIncomplete, CheckSkipped, ScanContext, SourceFile
from verifyfull.scan.python import module
from verifyfull.scan.python.check import analyse, run_analysis
from verifyfull.scan.python.prefilter import ALL_FAMILIES, plan

ROOT = Path(__file__).resolve().parent.parent
REPOS = ROOT / "benchmarks" / "corpus" / ".repos"
SKIPPED_DIRECTORIES = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"})

Found = list[tuple[str, int, int]]


def _found(findings: list) -> Found:  # type: ignore[type-arg]
    return sorted((f.rule_id, f.line or 0, f.column or 0) for f in findings)


def _python_files(tree: Path) -> list[Path]:
    return sorted(
        path
        for path in tree.rglob("*.py")
        if path.is_file() and not SKIPPED_DIRECTORIES.intersection(path.relative_to(tree).parts)
    )


def _filtered(source: SourceFile, ctx: ScanContext) -> Found:
    try:
        return _found(analyse(source, ctx))
    except CheckIncomplete as exc:
        return _found(exc.findings)


def _source(path: Path, root: Path) -> SourceFile | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SourceFile(path, path.relative_to(root).as_posix(), text, data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, help="a tree (default: the corpus)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many files per tree")
    args = parser.parse_args()
    trees = args.tree or sorted(p for p in REPOS.iterdir() if p.is_dir())
    unsound: list[str] = []
    passed = collections.Counter[tuple[str, ...]]()
    wasted = collections.Counter[tuple[str, ...]]()
    wasted_time = collections.Counter[tuple[str, ...]]()
    slowest: list[tuple[float, str, tuple[str, ...]]] = []
    files = analysed = 0
    started = time.perf_counter()
    for tree in trees:
        ctx = ScanContext(root=tree, policy=Policy())
        paths = _python_files(tree)
        for path in paths[: args.limit or None]:
            source = _source(path, tree)
            if source is None:
                continue
            files += 1
            try:
                full = _found(run_analysis(source, ctx, ALL_FAMILIES).findings)
            except (CheckSkipped, RecursionError):
                continue
            module.release_parsed()  # the filtered run parses again, as a scan would
            families = tuple(sorted(plan(source.text, path.stem).families))
            began = time.perf_counter()
            filtered = _filtered(source, ctx)
            spent = time.perf_counter() - began
            module.release_parsed()
            if filtered != full:
                unsound.append(f"{path}: filtered {filtered} != full {full}")
            if not families:
                continue
            analysed += 1
            passed[families] += 1
            if not filtered:
                wasted[families] += 1
                wasted_time[families] += spent
                slowest.append((spent, str(path), families))
    print(f"{files} files in {len(trees)} trees, {time.perf_counter() - started:.0f} s")
    print(f"passed by the prefilter: {analysed}; of them found nothing: {sum(wasted.values())}")
    print(f"analysis time of those: {sum(wasted_time.values()):.2f} s")
    for families, spent in wasted_time.most_common():
        print(f"  {spent:6.2f} s {wasted[families]:5d} of {passed[families]:5d}  {families}")
    print("slowest passed for nothing:")
    for spent, path, families in sorted(slowest, reverse=True)[:15]:
        print(f"  {spent:.3f} s {path} {families}")
    print(f"unsound: {len(unsound)}")
    for line in unsound:
        print("  " + line)
    return 1 if unsound else 0


if __name__ == "__main__":
    sys.exit(main())
