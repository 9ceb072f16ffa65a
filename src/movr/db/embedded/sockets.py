"""Where the server's Unix socket lives: a private folder whose socket path fits the OS limit."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from movr.db.embedded.account import ServerAccount
from movr.db.embedded.errors import EmbeddedPostgresError

PORT = 5432
# sun_path is 108 bytes on Linux (104 on macOS); stay clear of both, NUL included.
MAX_SOCKET_PATH = 100


def fallback_socket_dir(pgdata: Path) -> Path:
    """Return the short private socket dir used when `data_dir / "run"` is too long."""
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"movr-pg-{digest}"


def _socket_dir(data_dir: Path, pgdata: Path) -> Path:
    """Pick the socket dir: `data_dir / "run"` when the socket path fits the Unix limit."""
    for candidate in (data_dir / "run", fallback_socket_dir(pgdata)):
        if len(os.fsencode(candidate / f".s.PGSQL.{PORT}")) <= MAX_SOCKET_PATH:
            return candidate
    raise EmbeddedPostgresError(
        f"no socket dir short enough for the Unix limit: set TMPDIR to a short path "
        f"(tried {data_dir / 'run'} and {fallback_socket_dir(pgdata)})"
    )


def prepare_socket_dir(data_dir: Path, pgdata: Path, account: ServerAccount) -> Path:
    """Create the socket dir, private (0700) to the server's user, and refuse a squatted one."""
    path = _socket_dir(data_dir, pgdata)
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
