"""The MovR a chaos run loads and hurts: one it starts itself (like `movr demo`, in a fresh data
folder), or one already running, given by its URL and data folder."""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from movr.chaos import processes
from movr.config import ConfigError, Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from movr.db.runtime import EMBEDDED_DATABASE
from movr.seeding import prepare_database
from movr.simulation.supervisor import GlobalError, stop_process, wait_http
from movr.web.server import spawn

HOST = "127.0.0.1"
WORKERS = 2  # gunicorn workers: killing one leaves one serving
DRAIN_TIMEOUT = 40.0  # gunicorn's graceful_timeout (20 s) and some
# Environment this MovR must not take from ours: it is self-contained.
NOT_INHERITED = (
    "DATABASE_URL",
    "MOVR_READ_DATABASE_URL",
    "MOVR_REGION_URLS",
    "PROMETHEUS_MULTIPROC_DIR",
)
# The server inherits our environment, then spawn() sets what Settings carries (the database,
# the metrics folder); these blank the rest (empty is unset for MovR) and lift rate limits.
SERVER_ENV = {"MOVR_READ_DATABASE_URL": "", "MOVR_REGION_URLS": "", "MOVR_RATE_LIMITS": "off"}


def bounds_env(deadline: float) -> dict[str, str]:
    """The server's bounds for a request deadline of `deadline` seconds, nested as config.py
    requires (lock ≤ statement < request, pool wait < request); 10 s gives MovR's defaults."""
    request_ms = int(deadline * 1000)
    statement_ms = min(5000, request_ms // 2)
    return {
        "MOVR_REQUEST_TIMEOUT_MS": str(request_ms),
        "MOVR_STATEMENT_TIMEOUT_MS": str(statement_ms),
        "MOVR_LOCK_TIMEOUT_MS": str(statement_ms * 4 // 5),
        "MOVR_DB_POOL_TIMEOUT_MS": str(min(2000, request_ms // 2)),
    }


class TargetError(RuntimeError):
    """The MovR to drill cannot be started or found; the message says what to do."""


class Target(Protocol):
    """What the faults and the verdict need of the MovR under test."""

    url: str
    database: EmbeddedPostgres

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL of MovR's database (for locks and the invariant check)."""

    def server_pid(self) -> int | None:
        """The gunicorn master's pid, or None when the server is not ours to signal."""

    def drain_server(self) -> None:
        """SIGTERM the server and wait until it has drained and exited."""

    def start_server(self) -> None:
        """Start a new server on the same port and wait until it answers."""

    def processes(self) -> set[int]:
        """Pids of the processes this run started and that run now (servers, databases)."""


class LocalMovr:
    """An embedded PostgreSQL and a gunicorn MovR in `folder`, started and stopped by us."""

    def __init__(self, folder: Path, port: int, deadline: float) -> None:
        """Describe it, answering every request within `deadline` seconds; nothing starts
        before `start()`."""
        self._bounds = bounds_env(deadline)
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | self._bounds
        env |= {"MOVR_DATA_DIR": str(folder), "PORT": str(port), "MOVR_RATE_LIMITS": "off"}
        env |= {"WEB_CONCURRENCY": str(WORKERS), "MOVR_ENV": "development"}
        try:
            self.settings = Settings.from_env(env, development=True)
        except ConfigError as error:
            raise TargetError(f"configuration error: {error}") from None
        self.folder = folder
        self.url = f"http://{HOST}:{port}"
        self.database = EmbeddedPostgres(folder)
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def database_url(self) -> str:
        """The embedded server's MovR database, through its Unix socket."""
        return self.database.url(EMBEDDED_DATABASE)

    def start(self, stack: ExitStack) -> None:
        """Start the database, migrate and seed it, then serve (each part stopped by `stack`)."""
        try:
            self.database.start()
            stack.callback(self.database.stop)
            self.database.ensure_database(EMBEDDED_DATABASE)
            prepare_database(self.settings, self.database_url, seed_data=True, progress=_quiet)
        except EmbeddedPostgresError as error:
            raise TargetError(str(error)) from None
        stack.callback(self._stop_server)
        self.start_server()

    def server_pid(self) -> int | None:
        """The gunicorn master, while it runs."""
        server = self._server
        return server.pid if server is not None and server.poll() is None else None

    def drain_server(self) -> None:
        """SIGTERM the server (gunicorn's graceful shutdown) and wait until it has exited."""
        if self._server is None:
            return
        self._server.send_signal(signal.SIGTERM)
        try:
            self._server.wait(timeout=DRAIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise TargetError(
                f"the server did not exit {DRAIN_TIMEOUT:.0f} s after SIGTERM"
            ) from None

    def processes(self) -> set[int]:
        """The server's tree and the database's tree, as they are now."""
        server = self.server_pid()
        pids = set(processes.tree(server)) if server is not None else set()
        database = postmaster(self.database)
        return pids | (set(processes.tree(database)) if database is not None else set())

    def start_server(self) -> None:
        """Start gunicorn on our port (a fresh process) and wait until it answers."""
        with (self.folder / "server.log").open("ab") as log:
            self._server = spawn(
                self.settings,
                self.database_url,
                host=HOST,
                output=log,
                extra_env=SERVER_ENV | self._bounds,
            )
        try:
            wait_http(f"{self.url}/healthz", "the MovR under test")
        except GlobalError as error:
            raise TargetError(f"{error} (log: {self.folder / 'server.log'})") from None

    def _stop_server(self) -> None:
        if self._server is not None:
            stop_process(self._server)


class RunningMovr:
    """A MovR someone else runs (`movr demo`): its URL and the data folder of its database."""

    def __init__(self, url: str, data_dir: Path) -> None:
        """Find its embedded database, which must be running."""
        self.url = url
        self.database = EmbeddedPostgres(data_dir)
        try:
            running = self.database.is_running()
        except EmbeddedPostgresError as error:
            raise TargetError(str(error)) from None
        if not running:
            raise TargetError(
                f"no embedded PostgreSQL runs in {data_dir}: "
                f"give the data folder of the `movr demo` serving {url}"
            )

    @property
    def database_url(self) -> str:
        """The embedded server's MovR database, through its Unix socket."""
        return self.database.url(EMBEDDED_DATABASE)

    def server_pid(self) -> int | None:
        """Unknown: the server is not ours to signal."""
        return None

    def drain_server(self) -> None:
        """Refused: only a server `movr chaos` started can be restarted by it."""
        raise TargetError(
            "drain restarts the server: only for a MovR that movr chaos starts (omit --url)"
        )

    def start_server(self) -> None:
        """Refused, as drain_server."""
        self.drain_server()

    def processes(self) -> set[int]:
        """None of ours: nothing to find orphaned."""
        return set()


def postmaster(database: EmbeddedPostgres) -> int | None:
    """The running postmaster's pid (the first line of postmaster.pid; the faults freeze its
    tree)."""
    try:
        pid = int((database.pgdata / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if processes.alive(pid) else None


def _quiet(_message: str) -> None:
    """Migration and seeding progress: not part of a chaos run's output."""
