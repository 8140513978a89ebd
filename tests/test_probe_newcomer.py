"""What a newcomer reads from `verifyfull probe` when the target is not what they
thought: unreachable, an HTTP service, an https:// URL that speaks plain HTTP.

Every target is a real loopback server (or a closed port); the console script
runs as a user runs it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from doubles import RecordingSocket, read_packet, serving
from verifyfull.certs.create import create_ca, create_node


def _probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifyfull", "probe", "--timeout", "2", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@contextmanager
def _http_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _answers_http_400(sock: RecordingSocket) -> None:
    """Any first bytes get an HTTP 400 (nginx does this to an SSLRequest on its HTTP port)."""
    read_packet(sock)
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def _targets(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {t["target"]: t for t in json.loads(result.stdout)["targets"]}


@pytest.mark.parametrize("scheme", ["", "https://", "postgresql://"])
def test_an_unreachable_target_is_labelled_unreachable_with_one_error(scheme: str) -> None:
    port = _closed_port()
    target = f"{scheme}127.0.0.1:{port}" + ("/" if scheme == "https://" else "")
    result = _probe(target, "-f", "json")
    (entry,) = _targets(result).values()
    assert entry["kind"] == "unreachable"
    assert entry["errors"] == [f"cannot connect to 127.0.0.1:{port}: Connection refused"]
    text = _probe(target).stdout
    assert "unreachable" in text and "postgresql-wire" not in text
    assert "; 1 error " in text and "errors)" not in text


def test_an_https_url_that_speaks_plain_http_says_so_and_names_the_http_url() -> None:
    with _http_server() as port:
        result = _probe(f"https://127.0.0.1:{port}/", "-f", "json")
        text = _probe(f"https://127.0.0.1:{port}/").stdout
    (entry,) = _targets(result).values()
    assert entry["errors"] == [
        f"https://127.0.0.1:{port}/ speaks plain HTTP, not TLS (GET / answered with HTTP 200): "
        f"probe http://127.0.0.1:{port}/ to check it as such"
    ]
    assert "WRONG_VERSION_NUMBER" not in result.stdout + text
    assert "record type" not in result.stdout + text
    assert "VF207" in text  # the API answered in cleartext: still a finding


def test_a_host_port_that_answers_http_suggests_the_http_url() -> None:
    with serving(_answers_http_400) as server:
        port = server.port
        result = _probe(f"127.0.0.1:{port}", "-f", "json")
    (entry,) = _targets(result).values()
    (error,) = entry["errors"]
    assert "not a PostgreSQL-wire server: it speaks HTTP" in error
    assert f"probe http://127.0.0.1:{port}/" in error
    assert entry["kind"] == "http"


def test_a_silent_host_port_hints_at_an_http_service() -> None:
    with _http_server() as port:  # http.server waits for a request line: silent
        result = _probe(f"127.0.0.1:{port}", "-f", "json")
    (entry,) = _targets(result).values()
    errors = entry["errors"]
    assert any(f"probe http://127.0.0.1:{port}/ instead" in e for e in errors)
    assert any(e.startswith("timed out") for e in errors)


def test_verbose_text_lists_every_fact_json_has() -> None:
    with _http_server() as port:
        target = f"https://127.0.0.1:{port}/"
        facts = _targets(_probe(target, "-f", "json"))[target]["facts"]
        plain = _probe(target).stdout
        verbose = _probe(target, "-v").stdout
    assert isinstance(facts, dict) and facts
    for name, value in facts.items():
        assert f"{name}" in verbose and str(value) in verbose
    assert "\n  plain HTTP " in verbose and "\n  plain HTTP " not in plain  # one per line, -v only
    assert f"{target} (https)" in verbose and f"{target} (https)" not in plain


def test_probe_html_shows_the_facts_and_counts_no_files() -> None:
    with _http_server() as port:
        page = _probe(f"https://127.0.0.1:{port}/", "-f", "html").stdout
    assert "What each target answered" in page
    assert "<th>plain HTTP</th><td>served (200)</td>" in page
    assert "0 files" not in page and "in 1 target" in page


def test_quiet_prints_the_summary_line_alone_and_nothing_when_clean(tmp_path: Path) -> None:
    """-q/--quiet means the same in scan, probe and certs check: the summary line, or
    nothing at all when there is nothing to report."""
    port = _closed_port()
    quiet = _probe(f"127.0.0.1:{port}", "-q")
    assert quiet.stdout == "0 findings in 1 target; 1 could not be checked\n"
    assert _probe(f"127.0.0.1:{port}", "-q", "-v").returncode == 2  # contradictory
    certs = tmp_path / "certs"
    create_ca(certs, tmp_path / "ca.key")
    create_node(["localhost"], certs, tmp_path / "ca.key")
    check = subprocess.run(
        [sys.executable, "-m", "verifyfull", "certs", "check", str(certs), "--host", "localhost"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0 and check.stdout  # the full report
    silent = subprocess.run(
        [
            sys.executable,
            "-m",
            "verifyfull",
            "certs",
            "check",
            str(certs),
            "--host",
            "localhost",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (silent.returncode, silent.stdout, silent.stderr) == (0, "", "")
