"""Serve MovR with gunicorn: production options, multiprocess metrics, signal handling."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import IO, Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from movr.config import Settings, writable_folder
from movr.logs import configure_logging
from movr.web.app import create_app
from movr.web.observability import count_active_rides


def gunicorn_options(settings: Settings, host: str) -> dict[str, Any]:
    """gunicorn's settings for MovR (see the README's configuration table)."""

    def child_exit(_server: Any, worker: Any) -> None:
        # A dead worker's live gauges must stop counting (prometheus-client multiprocess mode).
        if settings.metrics_dir is not None:
            multiprocess.mark_process_dead(worker.pid, str(settings.metrics_dir))  # type: ignore[no-untyped-call]

    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.web_concurrency,
        # gthread with queue stamps, liveness from the main loop and a clean drain.
        "worker_class": "movr.web.worker.MovrWorker",
        "threads": settings.threads,
        "timeout": 30,
        "graceful_timeout": 20,  # SIGTERM: finish in-flight requests for up to 20 s
        "keepalive": 5,
        # Workers are not recycled (gunicorn's max_requests stays 0): a new worker costs ~0.1 s
        # of CPU to build the app and warm its caches, and leaves its metric files behind
        # (prometheus-client multiprocess mode), so /metrics would slow down for ever. At 5000
        # requests a worker under load was replaced every few seconds. Worker memory stays flat
        # under load (bench/RESULTS.md).
        "accesslog": None,  # MovR logs each request itself, as structured JSON (observability)
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": f"movr-{settings.region}",
        "control_socket_disable": True,  # several instances may share a machine
        "limit_request_line": 8190,  # gunicorn's maximum
        # MovR's ProxyFix alone decides which X-Forwarded-* to believe (MOVR_PROXY_HOPS): by
        # default gunicorn would also take X-Forwarded-Proto from 127.0.0.1 (any local process,
        # or a local proxy passing the client's header), so zero hops would not mean zero.
        "secure_scheme_headers": {},
        "forwarded_allow_ips": "*" if settings.proxy_hops or settings.forwarded_for_hops else "",
        "child_exit": child_exit,
    }


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
        """Build the app in the worker, after fork: no connection is shared between workers."""
        configure_logging(self.settings)
        app = create_app(self.settings)
        count_active_rides(app)  # off the request path: /metrics needs no database
        # The ~120k objects that live as long as the worker (modules, mappings, the app) would
        # be scanned again by every full garbage collection: a ~50 ms pause of all the
        # worker's requests here. Frozen, a full collection scans only what requests left.
        gc.collect()
        gc.freeze()
        return app


def serve(settings: Settings, *, host: str) -> None:
    """Run gunicorn in this process until SIGTERM/SIGINT (graceful) and return."""
    configure_logging(settings)
    try:
        MovrServer(settings, gunicorn_options(settings, host)).run()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise


def launch(settings: Settings, database_url: str, *, host: str) -> int:
    """Run gunicorn in a fresh child process and wait for it, forwarding SIGINT/SIGTERM.

    The forwarding is in place before the child exists: a signal in between is passed on once
    it does, rather than stopping this process and leaving gunicorn running.
    """
    child: subprocess.Popen[bytes] | None = None
    early: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child is None:
            early.append(signum)
        else:
            child.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = spawn(settings, database_url, host=host)
        for signum in early:
            forward(signum, None)
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def spawn(
    settings: Settings,
    database_url: str,
    *,
    host: str,
    output: IO[bytes] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start gunicorn serving `settings` in a fresh child process (not waited for); `extra_env`
    sets what `settings` does not carry (MOVR_RATE_LIMITS=off for load tests).

    A fresh interpreter is needed for prometheus-client's multiprocess mode, which reads
    PROMETHEUS_MULTIPROC_DIR when it is first imported; and it keeps the embedded database,
    owned by this process, out of reach of gunicorn's forking and exiting workers.
    """
    metrics_dir = settings.metrics_dir or settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # stale files would add old counts
    writable_folder(
        metrics_dir, "PROMETHEUS_MULTIPROC_DIR" if settings.metrics_dir else "MOVR_DATA_DIR"
    )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        MOVR_DATA_DIR=str(settings.data_dir),
        MOVR_ENV=settings.environment,
        SECRET_KEY=settings.secret_key,
        MOVR_REGION=settings.region,
        PORT=str(settings.port),
        MOVR_PROXY_HOPS=str(settings.proxy_hops),
        MOVR_FORWARDED_FOR_HOPS=str(settings.forwarded_for_hops),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    env["WEB_CONCURRENCY"] = str(settings.web_concurrency)
    if settings.read_database_url is not None:
        env["MOVR_READ_DATABASE_URL"] = settings.read_database_url
    if settings.region_urls:
        env["MOVR_REGION_URLS"] = ",".join(f"{r}={u}" for r, u in settings.region_urls.items())
    env.update(extra_env or {})
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.web.server", "--host", host],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description="Serve MovR with gunicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    serve(Settings.from_env(), host=parser.parse_args().host)


if __name__ == "__main__":
    _main()
