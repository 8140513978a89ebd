"""The demo's output helpers (scripts/lib/output.sh): colour only on a terminal
and never with NO_COLOR, and long diffs cut at a hunk boundary."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "scripts" / "lib" / "output.sh"
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _bash(script: str, stdin: str = "", env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["bash", "-c", f". {LIB}; {script}"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _bash_on_a_terminal(script: str, env: dict[str, str]) -> bytes:
    """Run under a pseudo-terminal, as a user's shell would: stdout is a tty."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe("bash", ["bash", "-c", f". {LIB}; {script}"], env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def test_section_is_bold_on_a_terminal_only() -> None:
    base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    base["TERM"] = "xterm"
    assert b"\x1b[1m" in _bash_on_a_terminal("section demo", base)
    assert b"\x1b" not in _bash_on_a_terminal("section demo", {**base, "NO_COLOR": "1"})
    piped = _bash("section demo", env={"TERM": "xterm"})
    assert "\x1b" not in piped and "=== demo ===" in piped


def _diff(files: list[list[int]]) -> str:
    """A unified diff: one entry per file, one hunk per number (its body length)."""
    lines = []
    for index, hunks in enumerate(files):
        lines += [f"--- a/f{index}.py", f"+++ b/f{index}.py"]
        for start, size in enumerate(hunks):
            lines.append(f"@@ -{start * 10 + 1},{size} +{start * 10 + 1},{size} @@")
            lines += [f" line {n}" for n in range(size)]
    return "\n".join(lines) + "\n"


def _complete_hunks(text: str) -> bool:
    body = [line for line in text.splitlines() if not line.startswith("… (")]
    index = 0
    while index < len(body):
        line = body[index]
        match = _HUNK.match(line)
        if match:
            size = int(match.group(1) or 1)
            if index + size >= len(body) + 1:
                return False
            if any(
                _HUNK.match(b) or b.startswith("--- ") for b in body[index + 1 : index + 1 + size]
            ):
                return False
            index += 1 + size
            continue
        index += 1
    return True


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    files=st.lists(st.lists(st.integers(1, 15), min_size=1, max_size=4), min_size=1, max_size=5),
    limit=st.integers(1, 60),
)
def test_cut_diff_stops_at_a_boundary_and_says_so(files: list[list[int]], limit: int) -> None:
    diff = _diff(files)
    out = _bash(f"cut_diff {limit}", stdin=diff)
    kept = [line for line in out.splitlines() if not line.startswith("… (")]
    assert diff.startswith("\n".join(kept))
    assert _complete_hunks(out)
    total = len(diff.splitlines())
    if len(kept) < total:
        assert f"… ({total - len(kept)} more diff lines left out" in out
        assert len(kept) >= min(limit, total)
    else:
        assert "more diff lines" not in out


def test_cut_diff_on_the_real_fix_preview() -> None:
    fix = subprocess.run(
        [
            sys.executable,
            "-m",
            "verifyfull",
            "fix",
            "--diff",
            str(ROOT / "examples" / "insecure_app"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fix.stdout.count("@@ ") >= 2
    out = _bash("cut_diff 10", stdin=fix.stdout)
    assert _complete_hunks(out) and "more diff lines left out" in out
