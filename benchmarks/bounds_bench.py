"""How fast the scanner gets through each hostile shape of the bound tests.

The tests (tests/test_trust_bounds.py and every test file that scans through its
`scan_shape`) only fail on a hang: a shape still running after HANG_SECONDS. The speed
target, each shape within SHAPE_SECONDS on the machine CI runs on, is measured here,
where a loaded machine makes a figure noisy instead of a test red:

    .venv/bin/python benchmarks/bounds_bench.py            # every shape, one run each
    .venv/bin/python benchmarks/bounds_bench.py --repeat 3 # best of three per shape

It runs those test files with pytest, VERIFYFULL_SHAPE_TIMES naming a scratch file that
`scan_shape` appends each shape's time to, and prints a Markdown table (shape, best
seconds, within the target or not) with the machine's load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SHAPE_SECONDS = 5.0  # the target; tests/test_trust_bounds.py names the same figure
_USES_SCAN_SHAPE = re.compile(r"^\s*result = scan_shape\(|^\s*scan_shape\(", re.MULTILINE)


def shape_test_files() -> list[Path]:
    """The test files that scan a hostile shape through scan_shape."""
    return sorted(
        path
        for path in TESTS.glob("test_*.py")
        if _USES_SCAN_SHAPE.search(path.read_text(encoding="utf-8"))
    )


def run_once(files: list[Path], times: Path) -> None:
    environment = {**os.environ, "VERIFYFULL_SHAPE_TIMES": str(times)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    command += [str(path) for path in files]  # their other tests run too: a minute or two
    completed = subprocess.run(command, cwd=ROOT, env=environment, check=False)
    if completed.returncode not in (0, 5):
        code = completed.returncode
        raise SystemExit(f"bounds_bench: the shape tests failed (pytest exit {code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per shape; the best is kept")
    arguments = parser.parse_args()
    files = shape_test_files()
    load = os.getloadavg()[0]
    best: dict[str, float] = defaultdict(lambda: float("inf"))
    with tempfile.TemporaryDirectory() as scratch:
        times = Path(scratch) / "times.jsonl"
        for _ in range(max(1, arguments.repeat)):
            times.write_text("", encoding="utf-8")
            run_once(files, times)
            for line in times.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                best[entry["shape"]] = min(best[entry["shape"]], entry["seconds"])
    print(f"load average at the start: {load:.1f}; {len(best)} shapes, best of {arguments.repeat}")
    print(f"\n| shape | seconds | within {SHAPE_SECONDS:.0f} s |\n|---|---:|---|")
    for shape, seconds in sorted(best.items(), key=lambda item: -item[1]):
        print(f"| `{shape}` | {seconds:.2f} | {'yes' if seconds < SHAPE_SECONDS else '**no**'} |")
    slow = [shape for shape, seconds in best.items() if seconds >= SHAPE_SECONDS]
    print(f"\n{len(best) - len(slow)} of {len(best)} shapes within {SHAPE_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
