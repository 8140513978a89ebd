"""The HTML view: self-contained, escaped, and readable in a real browser (headless Chromium)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from verifyfull.findings import Finding
from verifyfull.report import Report, ReportError
from verifyfull.report.html import render

CANARY = "canary-Pw-0d4e"
SCRIPT = "<script>document.title='pwned'</script>"


def _report(tmp_path: Path) -> Report:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  crdb:\n"
        "    image: cockroachdb/cockroach\n"
        "    command: start-single-node --insecure\n"
        f"    environment: {{POSTGRES_PASSWORD: {CANARY}}}\n"
    )
    return Report(
        findings=(
            Finding(
                "VF201",
                "node runs with --insecure",
                path="docker-compose.yml",
                line=4,
                column=32,
                evidence="start-single-node --insecure",
            ),
            Finding(
                "VF401",
                "literal password",
                path="docker-compose.yml",
                line=5,
                evidence="POSTGRES_PASSWORD=***",
            ),
            Finding("VF204", f"weak suites {SCRIPT}", evidence=SCRIPT, target="db:26257"),
        ),
        errors=(ReportError(f"bad file {SCRIPT}", path="x.yaml"),),
        files=1,
        targets=1,
    )


def test_self_contained_and_escaped(tmp_path: Path) -> None:
    page = render(_report(tmp_path), root=tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert not re.search(r"<link\b|\bsrc=|@import|url\(", page)  # nothing fetched
    assert CANARY not in page
    assert "start-single-node --insecure" in page


def test_summary_by_severity_and_rule(tmp_path: Path) -> None:
    page = render(_report(tmp_path), root=tmp_path)
    assert "Summary by severity" in page and "Summary by rule" in page
    for rule_id in ("VF201", "VF401", "VF204"):
        assert f"#rule-{rule_id}" in page and f'id="rule-{rule_id}"' in page


def test_empty_report_renders() -> None:
    assert "No findings." in render(Report())


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(page: Path, profile: Path, *action: str) -> str:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_headless_chromium_shows_the_findings(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(_report(tmp_path), root=tmp_path))
    dom = _chromium(page, tmp_path / "profile", "--dump-dom")
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "verifyfull report" in text
    assert "3 findings in 1 file, 1 target" in text
    assert "node runs with --insecure" in text and "db:26257" in text
    assert "<title>verifyfull report: 3 findings</title>" in dom  # no script ran: title intact
    assert "&lt;script&gt;" in dom  # the browser kept it as text
    assert "Fix" in text and "--certs-dir" in text
    assert CANARY not in dom


def test_a_multi_line_fix_is_a_pre_block_that_keeps_its_lines() -> None:
    corrected = "import ssl\n\nctx = ssl.create_default_context(cafile='ca.crt')\n<keep me>"
    item = Finding("VF103", "no chain check", path="a.py", line=1, fix=f"Verify.\n{corrected}")
    page = render(Report(findings=(item,), files=1))
    assert '<div class="fix"><span class="label">Fix</span> Verify.<pre class="fixcode">' in page
    block = page.split('<pre class="fixcode">', 1)[1].split("</pre>", 1)[0]
    assert html.unescape(block) == corrected  # lines kept, text escaped, copies as written


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_headless_chromium_renders_every_rule_with_its_fix_lines_kept(tmp_path: Path) -> None:
    """A report with one finding of every catalogue rule, each with a multi-line fix:
    the rendered page holds every rule and each fix's lines as lines (read back from
    the DOM Chromium built), and a screenshot is taken of it."""
    from verifyfull import rules

    findings = tuple(
        Finding(
            rule.id,
            f"{rule.title} (case {n})",
            path=f"app/m{n}.py",
            line=n + 1,
            fix=f"Fix {rule.id}.\nline one of {rule.id}\n    indented line of {rule.id}",
        )
        for n, rule in enumerate(rules.all_rules())
    )
    page = tmp_path / "every-rule.html"
    page.write_text(render(Report(findings=findings, files=len(findings))))
    dom = _chromium(page, tmp_path / "profile", "--dump-dom")
    blocks = [html.unescape(b) for b in re.findall(r'<pre class="fixcode">(.*?)</pre>', dom, re.S)]
    assert len(blocks) == len(findings)
    for rule in rules.all_rules():
        assert f"line one of {rule.id}\n    indented line of {rule.id}" in blocks
    shot = tmp_path / "every-rule.png"
    _chromium(page, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1200,2400")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
