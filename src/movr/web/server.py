"""Serve the app with gunicorn, in this process (so `movr demo` can stop its database after)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from movr.config import Settings
from movr.web.app import create_app


def default_workers() -> int:
    """Two per core: the work is mostly waiting on the database."""
    return int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))


class MovrServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn running create_app(settings) in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in the worker (after fork: no shared connections)."""
        return create_app(self.settings)


def serve(settings: Settings, *, host: str = "127.0.0.1") -> None:
    """Run gunicorn until SIGTERM/SIGINT; returns after a graceful shutdown."""
    options = {
        "bind": f"{host}:{settings.port}",
        "workers": default_workers(),
        "worker_class": "gthread",
        "threads": int(os.environ.get("MOVR_THREADS") or 4),
        "graceful_timeout": 20,
        "timeout": 30,
        "max_requests": 5000,
        "max_requests_jitter": 500,
        "accesslog": None,
        "proc_name": f"movr-{settings.region}",
        "control_socket_disable": True,  # several instances may share a machine
        "limit_request_line": 8190,  # gunicorn's maximum
    }
    try:
        MovrServer(settings, options).run()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise


def supervise(settings: Settings, database_url: str, *, host: str) -> int:
    """Run gunicorn as a child process and wait for it, forwarding SIGINT/SIGTERM.

    `movr demo` owns the embedded database; keeping gunicorn (whose workers fork and exit on
    their own schedule) in a separate process means only this process ever stops it.
    """
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        MOVR_DATA_DIR=str(settings.data_dir),
        MOVR_ENV=settings.environment,
        SECRET_KEY=settings.secret_key,
        MOVR_REGION=settings.region,
        PORT=str(settings.port),
    )
    child = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.web.server", "--host", host], env=env
    )

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main() -> None:
    parser = argparse.ArgumentParser(description="Serve MovR with gunicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    serve(Settings.from_env(), host=parser.parse_args().host)


if __name__ == "__main__":
    _main()
