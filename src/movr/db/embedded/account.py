"""The operating-system account the server runs as, and handing files over to it."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from movr.db.embedded.errors import EmbeddedPostgresError

# One logger name for the whole embedded server, as when it was a single module.
logger = logging.getLogger("movr.db.embedded")

SERVER_USER = "movr-postgres"


@dataclass(frozen=True)
class ServerAccount:
    """The OS account the server runs as; `switch` means we are root and must drop to it."""

    uid: int
    gid: int
    name: str
    switch: bool


def server_account(data_dir: Path, bin_dir: Path, *, create: bool) -> ServerAccount:
    """Return the account to run the binaries as: for root, `movr-postgres`, made if missing."""
    euid = os.geteuid()
    if euid != 0:
        return ServerAccount(euid, os.getegid(), pwd.getpwuid(euid).pw_name, switch=False)
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        if not create:
            raise
        _create_user()
        entry = pwd.getpwnam(SERVER_USER)
    account = ServerAccount(entry.pw_uid, entry.pw_gid, SERVER_USER, switch=True)
    # Checked on every call: tools such as pytest reset the modes of their temp roots.
    _grant_traverse(data_dir, account)
    _grant_traverse(bin_dir, account)
    return account


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


def _grant_traverse(path: Path, account: ServerAccount) -> None:
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


def prepare_file(path: Path, account: ServerAccount) -> None:
    """Create `path` if absent, readable by its owner only and writable by the server."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    if account.switch:
        os.chown(path, account.uid, account.gid)


def chown_tree(root: Path, account: ServerAccount) -> None:
    """Hand over a cluster created by another user: PostgreSQL insists on owning pgdata."""
    st = root.lstat()
    if (st.st_uid, st.st_gid) == (account.uid, account.gid):
        return
    logger.info("changing the owner of %s to %s", root, account.name)
    os.chown(root, account.uid, account.gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.chown(Path(dirpath, name), account.uid, account.gid, follow_symlinks=False)
