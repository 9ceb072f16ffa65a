"""`movr serve` as a real gunicorn process with no database: what it trusts, what still answers."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, start_serve, wait_for

SECRET = "an-untrusted-test-key-0123456789-q"
SPOOFED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@contextmanager
def serving(data_dir: Path, **env: str) -> Iterator[str]:
    """`movr serve` on a free port, its database a port where nothing listens."""
    port = free_port()
    dead = f"postgresql://movr@127.0.0.1:{free_port()}/movr?connect_timeout=1"
    process = start_serve(port, data_dir, dead, SECRET_KEY=SECRET, WEB_CONCURRENCY="1", **env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


@pytest.mark.parametrize("trusted", [{}, {"MOVR_FORWARDED_FOR_HOPS": "1"}])
def test_zero_proxy_hops_trust_no_forwarded_proto(tmp_path: Path, trusted: dict[str, str]) -> None:
    # Plain HTTP from 127.0.0.1, claiming HTTPS: gunicorn's own defaults believed that.
    with serving(tmp_path, **trusted) as base:
        response = httpx.get(f"{base}/login", headers=SPOOFED, timeout=10)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    cookie = response.headers["Set-Cookie"]
    assert "movr_session=" in cookie
    assert "secure" not in cookie.lower()


def test_one_proxy_hop_trusts_its_forwarded_proto(tmp_path: Path) -> None:
    with serving(tmp_path, MOVR_PROXY_HOPS="1") as base:
        response = httpx.get(f"{base}/login", headers=SPOOFED, timeout=10)
    assert "Strict-Transport-Security" in response.headers
    assert "secure" in response.headers["Set-Cookie"].lower()


def test_metrics_and_liveness_answer_without_a_database(tmp_path: Path) -> None:
    with serving(tmp_path) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    assert 'movr_http_requests_total{method="GET",region="gcp-us-east1",route="/readyz"' in (
        response.text
    )
