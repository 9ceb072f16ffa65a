"""The server as processes: its `postmaster.pid`, whether a pid lives, what a killed one left."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from movr.db.embedded.commands import describe_failure
from movr.db.embedded.errors import EmbeddedPostgresError

# One logger name for the whole embedded server, as when it was a single module.
logger = logging.getLogger("movr.db.embedded")

STALE_TIMEOUT = 30.0


@dataclass(frozen=True)
class PidFile:
    """The fields of `postmaster.pid` that MovR needs."""

    pid: int
    port: int
    socket_dir: Path | None
    status: str


def read_pidfile(pgdata: Path) -> PidFile | None:
    """Parse `postmaster.pid`, or None when it is absent or still being written."""
    try:
        lines = (pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()
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
    return PidFile(pid, port, socket_dir, status)


def process_state(pid: int) -> str | None:
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


def is_alive(pid: int) -> bool:
    """Tell whether `pid` is a live process (zombies are dead: they only await reaping)."""
    return process_state(pid) not in (None, "Z", "X")


def wait_ready(pgdata: Path, pid: int, *, timeout: float, log_file: Path) -> bool:
    """Wait for a running postmaster to accept connections; False if it died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return False
        pidfile = read_pidfile(pgdata)
        if pidfile is None or pidfile.pid != pid:
            return False
        if pidfile.status == "ready":
            return True
        time.sleep(0.1)
    raise EmbeddedPostgresError(
        f"PostgreSQL (pid {pid}) on {pgdata} did not become ready in {timeout}s"
        f"{describe_failure('', log_file)}"
    )


def clear_stale(pgdata: Path) -> None:
    """Wait until a killed server has fully gone, so a new one can take over its pgdata."""
    pidfile = read_pidfile(pgdata)
    if pidfile is None:
        return
    deadline = time.monotonic() + STALE_TIMEOUT
    # Backends of a killed postmaster live on briefly, and an init that does not reap
    # promptly leaves the postmaster a zombie, which PostgreSQL takes for a live owner.
    while time.monotonic() < deadline:
        zombie = process_state(pidfile.pid) == "Z"
        orphans = _orphans(pgdata)
        if not zombie and not orphans:
            return
        time.sleep(0.2)
    if orphans:
        raise EmbeddedPostgresError(
            f"processes {orphans} still run in {pgdata} although its postmaster "
            f"(pid {pidfile.pid}) is dead; stop them and retry"
        )
    # Only an unreaped zombie is left, and it is dead: its lock file is stale.
    logger.warning(
        "postmaster pid %d of %s is an unreaped zombie; removing its stale postmaster.pid",
        pidfile.pid,
        pgdata,
    )
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _orphans(pgdata: Path) -> list[int]:
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
            if cwd == str(pgdata) and is_alive(int(entry.name)):
                found.append(int(entry.name))
    return found
