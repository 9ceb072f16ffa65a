"""Helpers for tests that run MovR as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    url: str,
    process: subprocess.Popen[Any],
    timeout: float = 90,
    log: Path | None = None,
) -> httpx.Response:
    """The first 200 answer of `url`; fails if the process exits or the time runs out."""
    detail = lambda: f":\n{log.read_text()}" if log is not None and log.exists() else ""  # noqa: E731
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited early with {process.returncode}{detail()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within {timeout}s{detail()}")


def start_demo(
    port: int,
    data_dir: Path,
    stdout: Any = subprocess.DEVNULL,
    options: tuple[str, ...] = (),
    **env: str,
) -> Any:
    """`movr demo [options]` as a child process on `port` with its own data folder (never
    DATABASE_URL)."""
    environment = dict(os.environ, PORT=str(port), MOVR_DATA_DIR=str(data_dir), **env)
    environment.pop("DATABASE_URL", None)
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.cli", "demo", *options],
        env=environment,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_serve(
    port: int, data_dir: Path, database_url: str, output: IO[str] | None = None, **env: str
) -> Any:
    """`movr serve` on 127.0.0.1:`port` as a child process, its output to `output` (or
    discarded)."""
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "MOVR_DATA_DIR": str(data_dir),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "movr.cli", "serve", "--host", "127.0.0.1"],
        env=environment,
        stdout=output if output is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
    )
