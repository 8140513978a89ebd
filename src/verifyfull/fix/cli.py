"""`verifyfull fix`: rewrite what the scanner found into verify-full settings.

Applies the safe fixes by default (`--unsafe-fixes`: also those that need something new
at run time, applicability.py); `--diff` prints a unified diff of every fix, each marked
in the summary, and writes nothing. Files
with uncommitted changes are refused unless `--force`. Exit status: 0 when
nothing at or above high is left, 1 when a person must still act, 2 on a
usage or run error.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import typer

from verifyfull import rules
from verifyfull.conninfo import redact_text
from verifyfull.errors import UsageError
from verifyfull.fix.apply import FileChanged, write_atomic
from verifyfull.fix.gitstate import uncommitted
from verifyfull.fix.guarddep import depends_on_verifyfull
from verifyfull.fix.plan import FileFix, FixPlan, plan_fixes
from verifyfull.rules import Severity
from verifyfull.scan.settings import load
from verifyfull.scan.walk import NOTHING_EXAMINED
from verifyfull.terminal import shown


def _shown(line: str, hidden: frozenset[str]) -> str:
    """A diff line with passwords masked; a line the scanner saw a password on that
    redaction cannot mask is replaced whole."""
    sign, body = line[:1], line[1:].rstrip("\r\n")
    masked = redact_text(body)
    if masked == body and body in hidden:
        masked = "<a line holding a password: not shown>"
    return f"{sign}{masked}\n"


def unified_diff(fix: FileFix) -> str:
    """The fix as a unified diff, passwords masked (so it is for reading, not `patch`,
    wherever a password was masked)."""
    before = fix.before.decode("utf-8", "replace").splitlines(keepends=True)
    after = fix.after.decode("utf-8", "replace").splitlines(keepends=True)
    hidden = frozenset(fix.secret_lines)
    out = []
    for line in difflib.unified_diff(before, after, f"a/{fix.relpath}", f"b/{fix.relpath}"):
        if line.startswith(("---", "+++", "@@")):
            out.append(line if line.endswith("\n") else line + "\n")
        else:
            out.append(_shown(line, hidden))
    return "".join(out)


def _summary(plan: FixPlan, applied: bool, unsafe: bool = True) -> str:
    verb = "fixed" if applied else "would fix"
    out: list[str] = []
    for fix in plan.fixes:
        out.append(f"{verb} {fix.relpath} ({', '.join(fix.rules)}):")
        out += [f"    {change}" for change in fix.changes]
    if not applied and not unsafe and any(not c.safe for f in plan.fixes for c in f.changes):
        out.append("(changes marked unsafe are written only with --unsafe-fixes)")
    if plan.unsafe_left:
        out.append("unsafe fixes not applied (each needs something new at run time):")
        out += [f"  {relpath}: {change}" for relpath, change in plan.unsafe_left]
        out.append("  pass --unsafe-fixes to apply them (after providing what they need)")
    left = plan.left if applied else plan.left_before_fixing()
    if plan.refused:
        out.append("refused (each for a person):")
        out += [f"  {refusal}" for refusal in plan.refused]
    if left:
        out.append("left for a person:")
        for item in sorted(left, key=lambda f: (f.path or "", f.line or 0, f.rule_id)):
            out.append(f"  {item.path}:{item.line}: {item.rule_id} {item.message}")
            out.append(f"    manual fix: {item.fix or item.rule.fix}")
    for error in plan.errors:
        out.append(f"{error.path or error.target}: error: {error.message}")
    out.append(
        f"{len(plan.fixes)} file(s) {verb}, {len(plan.left)} finding(s) left "
        f"(of {plan.found} found)"
    )
    return "\n".join(out) + "\n"


def fix_command(
    paths: list[Path] | None = typer.Argument(  # noqa: B008 - typer's declaration style
        None, help="Files or directories (default: [tool.verifyfull] paths, else '.')."
    ),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff; write nothing."),
    force: bool = typer.Option(False, "--force", help="Also write files with uncommitted changes."),
    select: str | None = typer.Option(None, "--select", help="Only these rules: VF102,VF1,…"),
    ignore: str | None = typer.Option(None, "--ignore", help="Leave out these rules."),
    use_guard: bool = typer.Option(
        False,
        "--use-guard",
        help="SSLContext sites call verifyfull.guard (the project must depend on verifyfull).",
    ),
    unsafe_fixes: bool = typer.Option(
        False,
        "--unsafe-fixes",
        help="Also apply fixes that need something new at run time (a CA path, a variable).",
    ),
) -> None:
    """Rewrite insecure or broken connection settings into working verify-full code."""
    for path in paths or ():
        if not path.exists():
            raise UsageError(f"{path} does not exist", "name a file or directory to fix")
    settings = load(paths[0] if paths else Path.cwd())
    targets = paths or (
        [settings.project_root / p for p in settings.paths] if settings.paths else [Path.cwd()]
    )
    if use_guard and not depends_on_verifyfull(settings.project_root):
        raise UsageError(
            f"--use-guard: {settings.project_root} does not depend on verifyfull",
            "add verifyfull to its dependencies (pyproject.toml or requirements.txt), "
            "or fix without --use-guard",
        )
    chosen = rules.selection_option("--select", select)
    dropped = rules.selection_option("--ignore", ignore)
    plan = plan_fixes(
        targets,
        settings,
        select=chosen if chosen is not None else settings.select,
        ignore=dropped if dropped is not None else settings.ignore,
        use_guard=use_guard,
        unsafe=unsafe_fixes or diff,  # --diff shows both kinds, each marked
    )
    if diff:
        # shown(): every secret met during the run masked, control characters escaped.
        sys.stdout.write(shown("".join(unified_diff(fix) for fix in plan.fixes)))
        sys.stderr.write(shown(_summary(plan, applied=False, unsafe=unsafe_fixes)))
    else:
        if not force:
            dirty = uncommitted([fix.path for fix in plan.fixes])
            if dirty:
                names = ", ".join(str(p) for p in dirty)
                raise UsageError(
                    f"uncommitted changes in {names}",
                    "commit or stash them first, or pass --force (or look with --diff)",
                )
        unwritten = []
        for fix in plan.fixes:
            try:
                write_atomic(fix.path, fix.after, expected=fix.before, stamp=fix.stamp)
            except FileChanged as exc:
                unwritten.append(str(exc))
        sys.stdout.write(shown(_summary(plan, applied=True)))
        for line in unwritten:
            sys.stderr.write(f"verifyfull: {shown(line)}\n")
        if unwritten:
            raise typer.Exit(1)
    if plan.examined == 0:
        sys.stderr.write(f"verifyfull: {NOTHING_EXAMINED}\n")
    left_high = any(item.severity.at_least(Severity.HIGH) for item in plan.left)
    raise typer.Exit(1 if left_high or plan.refused else 0)
