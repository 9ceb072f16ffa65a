"""`EmbeddedPostgres`: a PostgreSQL cluster in a data folder, initialised, started and stopped."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import errors, sql

from movr.db.embedded import access
from movr.db.embedded.access import TcpAccess
from movr.db.embedded.account import ServerAccount, chown_tree, prepare_file, server_account
from movr.db.embedded.cluster import create_cluster, initdb_argv
from movr.db.embedded.commands import CommandResult, bin_dir, describe_failure, run_binary
from movr.db.embedded.errors import EmbeddedPostgresError
from movr.db.embedded.locks import OwnerLock, cluster_lock
from movr.db.embedded.processes import clear_stale, is_alive, read_pidfile, wait_ready
from movr.db.embedded.settings import start_options
from movr.db.embedded.sockets import fallback_socket_dir, prepare_socket_dir

# One logger name for the whole embedded server, as when it was a single module.
logger = logging.getLogger("movr.db.embedded")

START_TIMEOUT = 60


class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir / "pgdata"`, reachable on a private Unix socket (and,
    with `tcp`, on a loopback port with a password)."""

    def __init__(self, data_dir: Path, *, tcp: TcpAccess | None = None) -> None:
        """Describe the cluster; nothing is touched on disk until `start()`."""
        self.tcp = tcp
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "postgres.log"
        self._lock_file = self.data_dir / "pg.lock"
        self._owner = OwnerLock(self.data_dir / "pg.owner")
        self._bin = bin_dir()

    # Public interface

    def start(self) -> bool:
        """Initialise the cluster if absent and start it unless a server already runs on it.
        True if this object owns the server now (see `owned`), decided under the cluster's lock."""
        with cluster_lock(self._lock_file):
            return self._start_locked()

    @property
    def owned(self) -> bool:
        """Whether this object started the server, or took it over from a process that died
        without stopping it: then stopping it is this object's job."""
        return self._owner.held

    def stop(self) -> None:
        """Stop the server (fast mode, waiting for it to exit); a no-op when it is not running."""
        if not self.pgdata.is_dir():
            self._owner.release()
            return
        with cluster_lock(self._lock_file):
            try:
                self._stop_locked()
            finally:
                self._owner.release()

    def _stop_locked(self) -> None:
        """Do the work of `stop()`; the caller holds the cluster lock."""
        if not self._running_pid():
            return
        pidfile = read_pidfile(self.pgdata)
        self._pg_ctl_checked("stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT))
        logger.info("embedded PostgreSQL in %s stopped", self.pgdata)
        fallback = fallback_socket_dir(self.pgdata)
        if pidfile is not None and pidfile.socket_dir == fallback:
            # The private dir under /tmp is ours alone; don't leave empty ones piling up.
            with contextlib.suppress(OSError):
                fallback.rmdir()

    def is_running(self) -> bool:
        """Tell whether a live server is running on this cluster."""
        return self._running_pid() is not None

    def url(self, database: str = "postgres") -> str:
        """Return a SQLAlchemy URL reaching `database` through the server's Unix socket."""
        return access.socket_url(*self.endpoint(), database)

    def tcp_url(self, database: str = "postgres", port: int | None = None) -> str:
        """A SQLAlchemy URL reaching `database` over TCP (through `port`, a proxy in front of
        the server, when given)."""
        if self.tcp is None:
            raise EmbeddedPostgresError(f"{self.pgdata} listens on its Unix socket only")
        return access.tcp_url(self.tcp, database, port)

    def ensure_database(self, name: str) -> None:
        """Create database `name` unless it exists."""
        with self._connect() as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is not None:
                return
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except (errors.DuplicateDatabase, errors.UniqueViolation):
                # Another process created it between our check and our CREATE: that is the goal.
                return
            logger.info("created database %s", name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting its sessions."""
        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def __enter__(self) -> EmbeddedPostgres:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def __repr__(self) -> str:
        """Show which cluster this is."""
        return f"EmbeddedPostgres({str(self.data_dir)!r})"

    # Start sequence

    def _start_locked(self) -> bool:
        """Do the work of `start()`; the caller holds the cluster lock."""
        account = self._account(create=True)
        with contextlib.suppress(FileNotFoundError):
            owner = self.pgdata.lstat().st_uid
            # PostgreSQL only runs as the owner of pgdata; only root can hand it over (below).
            if not account.switch and owner != account.uid:
                raise EmbeddedPostgresError(
                    f"{self.pgdata} belongs to uid {owner}, not to {account.name}: "
                    "run as that user, or as root"
                )
        if (self.pgdata / "PG_VERSION").is_file():
            if account.switch:
                chown_tree(self.pgdata, account)
        else:
            self._initdb(account)

        pid = self._running_pid(account)
        if pid is not None and wait_ready(
            self.pgdata, pid, timeout=START_TIMEOUT, log_file=self.log_file
        ):
            self._probe()
            if self._owner.take():
                logger.warning(
                    "taking over the PostgreSQL server on %s (pid %d): the process that started "
                    "it is gone, so this one stops it",
                    self.pgdata,
                    pid,
                )
                return True
            logger.info(
                "using the PostgreSQL server already running on %s (pid %d); its owner stops it",
                self.pgdata,
                pid,
            )
            return False

        # A live owner whose server died stops ours at its exit too: harmless, stop is idempotent.
        self._owner.take()
        clear_stale(self.pgdata)
        socket_dir = prepare_socket_dir(self.data_dir, self.pgdata, account)
        prepare_file(self.log_file, account)
        options = start_options(self._role_settings(), tcp=self.tcp, socket_dir=socket_dir)
        result = self._pg_ctl(
            "start", "-w", "-t", str(START_TIMEOUT), "-l", str(self.log_file), "-o", options
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"PostgreSQL failed to start on {self.pgdata} (pg_ctl exit {result.returncode})"
                f"{describe_failure(result.output, self.log_file)}"
            )
        self._probe()
        logger.info("embedded PostgreSQL started on %s (socket in %s)", self.pgdata, socket_dir)
        return True

    def _role_settings(self) -> dict[str, str]:
        """Settings of this server's role (a primary needs none beyond the defaults)."""
        return {}

    def _initdb(self, account: ServerAccount) -> None:
        """Create the cluster in a scratch dir and rename it into place once complete."""
        if self.tcp is None:
            self._create_cluster(account, lambda scratch: initdb_argv(self._bin, scratch, []))
            return
        # The superuser's password, for TCP clients: in a file only the server's user reads.
        password_file = self.data_dir / "initdb.password"
        password_file.write_text(self.tcp.password, encoding="utf-8")
        prepare_file(password_file, account)
        try:
            self._create_cluster(
                account,
                lambda scratch: initdb_argv(
                    self._bin, scratch, ["--auth-host=scram-sha-256", f"--pwfile={password_file}"]
                ),
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _create_cluster(self, account: ServerAccount, command: Callable[[Path], list[str]]) -> None:
        """Run `command(scratch)` to fill a scratch dir, then rename it into place."""
        create_cluster(self.pgdata, account, command, log_file=self.log_file)

    def _probe(self) -> None:
        """Check that the server answers a query, so callers get an error here rather than later."""
        try:
            with self._connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise EmbeddedPostgresError(
                f"PostgreSQL on {self.pgdata} is running but not answering: {exc}"
                f"{describe_failure('', self.log_file)}"
            ) from exc

    # The running server

    def _account(self, *, create: bool) -> ServerAccount:
        """Return the account to run the binaries as (see `server_account`)."""
        return server_account(self.data_dir, self._bin, create=create)

    def _running_pid(self, account: ServerAccount | None = None) -> int | None:
        """Return the postmaster pid when `pg_ctl status` finds it running and not a zombie."""
        if not (self.pgdata / "postmaster.pid").exists():
            return None
        if account is None:
            try:
                account = self._account(create=False)
            except KeyError:
                # Root without the server user: no server of ours can be running.
                return None
        if self._pg_ctl("status", account=account).returncode != 0:
            return None
        pidfile = read_pidfile(self.pgdata)
        if pidfile is None or not is_alive(pidfile.pid):
            return None
        return pidfile.pid

    def endpoint(self) -> tuple[Path, int]:
        """The socket folder and port of the running server, as recorded in postmaster.pid."""
        pidfile = read_pidfile(self.pgdata)
        if pidfile is None or pidfile.socket_dir is None:
            raise EmbeddedPostgresError(f"PostgreSQL is not running on {self.pgdata}")
        return pidfile.socket_dir, pidfile.port

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """Open an autocommit superuser connection to the `postgres` database."""
        return access.connect_superuser(*self.endpoint())

    def _pg_ctl(self, *args: str, account: ServerAccount | None = None) -> CommandResult:
        """Run `pg_ctl -D pgdata <args>` as the server's user."""
        if account is None:
            account = self._account(create=True)
        return run_binary(
            [str(self._bin / "pg_ctl"), "-D", str(self.pgdata), *args],
            account,
            timeout=START_TIMEOUT + 30,
            cwd=self.data_dir,
            pgdata=self.pgdata,
            log_file=self.log_file,
        )

    def _pg_ctl_checked(self, *args: str) -> None:
        """Run pg_ctl and raise with its output and the log tail when it fails."""
        result = self._pg_ctl(*args)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"pg_ctl {args[0]} failed on {self.pgdata} (exit {result.returncode})"
                f"{describe_failure(result.output, self.log_file)}"
            )
