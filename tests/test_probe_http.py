"""HTTPS API probe against a real FastAPI app served by uvicorn (TLS from verifyfull.certs).

Each server runs in a thread on a free loopback port: HTTPS with and without
HSTS, plain HTTP redirecting to HTTPS, plain HTTP serving content, plain
HTTP redirecting elsewhere.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.middleware.httpsredirect import HTTPSRedirectMiddleware
from fastapi.responses import RedirectResponse

from doubles import loopback_certs
from verifyfull.guard.fastapi import enforce_https
from verifyfull.lab.harness import LabServer
from verifyfull.policy import Policy
from verifyfull.probe.http import judge_hsts
from verifyfull.probe.results import EndpointResult
from verifyfull.probe.runner import ProbeSettings, run
from verifyfull.probe.targets import parse_target

HSTS_GOOD = "max-age=31536000; includeSubDomains"
STRONG_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def make_app(hsts: str | None = None) -> FastAPI:
    api = FastAPI()

    @api.get("/users")
    def users() -> list[dict[str, str]]:
        return [{"username": "ada"}]

    @api.get("/")  # the plain-HTTP question is always a bare GET /
    def root() -> dict[str, str]:
        return {"service": "users"}

    if hsts:

        @api.middleware("http")
        async def add_hsts(request: Request, call_next: Callable[..., object]) -> Response:
            response: Response = await call_next(request)  # type: ignore[misc]
            response.headers["Strict-Transport-Security"] = hsts
            return response

    return api


def redirecting_app() -> FastAPI:
    api = make_app()
    api.add_middleware(HTTPSRedirectMiddleware)
    return api


def elsewhere_app() -> FastAPI:
    api = FastAPI()

    @api.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("http://other.example/")

    return api


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    app: FastAPI, certs: tuple[Path, Path] | None = None, ciphers: str | None = STRONG_CIPHERS
) -> Iterator[int]:
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        ssl_certfile=str(certs[0]) if certs else None,
        ssl_keyfile=str(certs[1]) if certs else None,
        ssl_ciphers=ciphers,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return loopback_certs(tmp_path_factory.mktemp("api-certs"))


def probe(url: str, ca: Path) -> EndpointResult:
    outcome = run([parse_target(url)], ProbeSettings(ca=ca, timeout=2.0))
    (endpoint,) = outcome.endpoints
    return endpoint


def rules(endpoint: EndpointResult) -> set[str]:
    return {f.rule_id for f in endpoint.findings}


def test_https_with_hsts_is_clean(tls_files: tuple[Path, Path, Path]) -> None:
    cert, key, ca = tls_files
    with serve(make_app(HSTS_GOOD), (cert, key)) as port:
        endpoint = probe(f"https://localhost:{port}/users", ca)
    assert rules(endpoint) == set(), [f.message for f in endpoint.findings]
    assert endpoint.errors == ()
    assert endpoint.fact("HSTS") == HSTS_GOOD
    assert endpoint.fact("TLS versions") == "TLSv1.2, TLSv1.3"
    assert str(endpoint.fact("plain HTTP")).startswith("refused")
    assert endpoint.fact("HTTPS status") == "200"


def test_uvicorn_default_ciphers_admit_cbc_suites(tls_files: tuple[Path, Path, Path]) -> None:
    """uvicorn 0.54 without --ssl-ciphers keeps OpenSSL's default list: CBC suites in TLS 1.2."""
    cert, key, ca = tls_files
    with serve(make_app(HSTS_GOOD), (cert, key), ciphers=None) as port:
        endpoint = probe(f"https://localhost:{port}/users", ca)
    assert rules(endpoint) == {"VF204"}
    assert "CBC mode without AEAD" in endpoint.findings[0].message


def test_https_without_hsts_gives_vf208(tls_files: tuple[Path, Path, Path]) -> None:
    cert, key, ca = tls_files
    with serve(make_app(), (cert, key)) as port:
        endpoint = probe(f"https://localhost:{port}/users", ca)
    assert rules(endpoint) == {"VF208"}
    assert endpoint.fact("HSTS") == "no Strict-Transport-Security header"


def test_short_hsts_gives_vf208(tls_files: tuple[Path, Path, Path]) -> None:
    cert, key, ca = tls_files
    with serve(make_app("max-age=3600"), (cert, key)) as port:
        endpoint = probe(f"https://localhost:{port}/users", ca)
    assert rules(endpoint) == {"VF208"}
    assert "under 180 days" in endpoint.findings[0].message


def test_https_certificate_is_judged(tls_files: tuple[Path, Path, Path]) -> None:
    cert, key, _ = tls_files
    with serve(make_app(HSTS_GOOD), (cert, key)) as port:
        endpoint = probe(f"https://localhost:{port}/users", Path(cert))  # wrong trust anchor
    assert rules(endpoint) == {"VF301"}


def test_plain_http_redirecting_to_https_is_fine(tls_files: tuple[Path, Path, Path]) -> None:
    with serve(redirecting_app()) as port:
        endpoint = probe(f"http://localhost:{port}/users", tls_files[2])
    assert rules(endpoint) == set()
    assert str(endpoint.fact("plain HTTP")).startswith("redirects to https://localhost")


def test_plain_http_serving_content_gives_vf207(tls_files: tuple[Path, Path, Path]) -> None:
    with serve(make_app()) as port:
        endpoint = probe(f"http://localhost:{port}/users", tls_files[2])
    assert rules(endpoint) == {"VF207"}
    assert endpoint.fact("plain HTTP") == "served (200)"


def test_plain_http_redirecting_elsewhere_gives_vf207(tls_files: tuple[Path, Path, Path]) -> None:
    with serve(elsewhere_app()) as port:
        endpoint = probe(f"http://localhost:{port}/users", tls_files[2])
    assert rules(endpoint) == {"VF207"}


def test_refused_plain_http_is_not_a_finding(tls_files: tuple[Path, Path, Path]) -> None:
    port = _free_port()
    endpoint = probe(f"http://127.0.0.1:{port}/", tls_files[2])
    assert rules(endpoint) == set()
    assert str(endpoint.fact("plain HTTP")).startswith("refused")


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (None, False),
        ("max-age=31536000; includeSubDomains", True),
        ('max-age="15552000"; includeSubDomains; preload', True),
        ("max-age=15551999; includeSubDomains", False),
        ("max-age=31536000", False),
        ("includeSubDomains", False),
        ("max-age=abc; includeSubDomains", False),
    ],
)
def test_hsts_judgement(header: str | None, ok: bool) -> None:
    assert judge_hsts(header, Policy()).ok is ok


def test_guard_enforce_https_satisfies_the_probe(tls_files: tuple[Path, Path, Path]) -> None:
    """verifyfull.guard.fastapi.enforce_https is the fix for VF207/VF208: the probe agrees."""
    cert, key, ca = tls_files
    api = make_app()
    enforce_https(api)
    with serve(api, (cert, key)) as port:
        secure = probe(f"https://localhost:{port}/users", ca)
    with serve(api) as port:
        plain = probe(f"http://localhost:{port}/users", ca)
    assert rules(secure) == set() and rules(plain) == set()
    assert str(secure.fact("HSTS")).startswith("max-age=15552000; includeSubDomains")
    assert str(plain.fact("plain HTTP")).startswith("redirects to https://localhost")


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.pg
def test_fastapi_example_served_by_uvicorn_with_tls(
    lab: Callable[..., LabServer], tls_files: tuple[Path, Path, Path]
) -> None:
    """examples/fastapi_crdb as users run it (uvicorn from the root, TLS, database via the lab)."""
    cert, key, ca = tls_files
    server = lab("secure")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    certs = server.certs_dir
    env.update(
        DB_HOST=server.hostname,
        DB_PORT=str(server.port),
        DB_NAME=server.database,
        DB_USER="app",
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CERT_PATH=str(certs / "client.app.crt"),
        DB_KEY_PATH=str(certs / "client.app.key"),
    )
    port = _free_port()
    argv = [sys.executable, "-m", "uvicorn", "examples.fastapi_crdb.main:app", "--port", str(port)]
    argv += ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--log-level", "warning"]
    argv += ["--ssl-ciphers", STRONG_CIPHERS]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(f"example exited: {proc.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        endpoint = probe(f"https://localhost:{port}/users", ca)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()
    # The example serves /users over verified TLS but sends no HSTS of its own.
    assert rules(endpoint) == {"VF208"}, [f.message for f in endpoint.findings]
    assert endpoint.fact("HTTPS status") == "200"
    assert endpoint.errors == ()
