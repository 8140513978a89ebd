"""When does a pool of worker processes pay? `verifyfull scan` on real trees (the
labelled corpus's repositories, fetched by benchmarks/corpus/fetch.py), each timed in
one process and with a pool forced, interleaved, best of --repeat; the trees sorted by
their candidate files, with what dispatch.pool_pays decides for each.

    .venv/bin/python benchmarks/pool_threshold.py --repos-dir benchmarks/corpus/.repos
    .venv/bin/python benchmarks/pool_threshold.py --repos-dir DIR --min-files 64 --repeat 4

The pool is forced by running the CLI with dispatch.pool_pays replaced by "always"
(FORCED_POOL below), and `--jobs 1` is the one-process run: both through the same
walk and checks as a user's scan. Figures in docs/scan.md ("When a pool starts").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs the CLI with every tree large enough for a pool: the other side of the comparison.
FORCED_POOL = (
    "import sys\n"
    "from verifyfull.scan import dispatch\n"
    "dispatch.pool_pays = lambda files, total_bytes: True\n"
    "from verifyfull.cli import main\n"
    "sys.argv = ['verifyfull', *sys.argv[1:]]\n"
    "main()\n"
)


@dataclass(frozen=True)
class TreeSize:
    name: str
    files: int
    total_bytes: int


@dataclass(frozen=True)
class Timing:
    tree: TreeSize
    one_process: float
    pool: float
    pool_decided: bool


def candidate_sizes(repos: Path, min_files: int) -> list[TreeSize]:
    """Each tree's candidate files and bytes, as the scan's walk counts them."""
    from verifyfull.scan import engine
    from verifyfull.scan.settings import ScanSettings

    sizes = []
    for tree in sorted(path for path in repos.iterdir() if path.is_dir()):
        walker = engine.walker_for(ScanSettings(project_root=tree))
        files = total = 0
        for walked in engine.candidate_files(walker, [tree]):
            files += 1
            total += max(walked.size, 0)
        if files >= min_files:
            sizes.append(TreeSize(tree.name, files, total))
    return sorted(sizes, key=lambda size: size.files)


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def time_tree(repos: Path, size: TreeSize, repeat: int) -> Timing:
    from verifyfull.scan import dispatch

    tree = str(repos / size.name)
    scan = ["scan", tree, "-f", "json", "-o", os.devnull]
    one: list[float] = []
    pool: list[float] = []
    for _ in range(repeat):  # interleaved: a load change hits both sides alike
        one.append(_wall([sys.executable, "-m", "verifyfull", *scan, "--jobs", "1"]))
        pool.append(_wall([sys.executable, "-c", FORCED_POOL, *scan, "--jobs", "2"]))
    return Timing(size, min(one), min(pool), dispatch.pool_pays(size.files, size.total_bytes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos-dir", type=Path, default=ROOT / "benchmarks/corpus/.repos")
    parser.add_argument("--min-files", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.repos_dir.is_dir():
        sys.exit(f"error: {args.repos_dir} is not a directory: run benchmarks/corpus/fetch.py")
    print("| tree | candidate files | MB | one process s | pool s | pool / one | pool_pays |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for size in candidate_sizes(args.repos_dir, args.min_files):
        timing = time_tree(args.repos_dir, size, args.repeat)
        print(
            f"| {size.name} | {size.files} | {size.total_bytes / 1e6:.1f} "
            f"| {timing.one_process:.3f} | {timing.pool:.3f} "
            f"| {timing.pool / timing.one_process:.2f} | {'yes' if timing.pool_decided else 'no'} |"
        )


if __name__ == "__main__":
    main()
