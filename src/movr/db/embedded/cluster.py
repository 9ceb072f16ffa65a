"""Creating a cluster: initdb (or a base backup) into a scratch folder, renamed in when complete."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from movr.db.embedded.access import SUPERUSER
from movr.db.embedded.account import ServerAccount
from movr.db.embedded.commands import run_binary
from movr.db.embedded.errors import EmbeddedPostgresError

# One logger name for the whole embedded server, as when it was a single module.
logger = logging.getLogger("movr.db.embedded")

CREATE_TIMEOUT = 300


def initdb_argv(bin_dir: Path, scratch: Path, host_auth: list[str]) -> list[str]:
    """Return the `initdb` command that creates a cluster in `scratch` (trust on the socket;
    `host_auth`, else reject, over TCP)."""
    return [
        str(bin_dir / "initdb"),
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


def create_cluster(
    pgdata: Path,
    account: ServerAccount,
    command: Callable[[Path], list[str]],
    *,
    log_file: Path,
) -> None:
    """Run `command(scratch)` to fill a scratch dir next to `pgdata`, then rename it into place.
    The caller holds the cluster lock."""
    data_dir = pgdata.parent
    if pgdata.exists():
        if any(pgdata.iterdir()):
            raise EmbeddedPostgresError(
                f"{pgdata} exists but holds no PostgreSQL cluster (no PG_VERSION); "
                "move it away or delete it"
            )
        pgdata.rmdir()
    scratch = data_dir / "pgdata.initdb"
    # A scratch dir is the remains of an initdb that was killed; we hold the lock, so drop it.
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    if account.switch:
        os.chown(scratch, account.uid, account.gid)
    logger.info("initialising a PostgreSQL cluster in %s", pgdata)
    argv = command(scratch)
    result = run_binary(
        argv, account, timeout=CREATE_TIMEOUT, cwd=data_dir, pgdata=pgdata, log_file=log_file
    )
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise EmbeddedPostgresError(
            f"{Path(argv[0]).name} failed for {pgdata} (exit {result.returncode}):\n{result.output}"
        )
    scratch.rename(pgdata)
    # Make the rename itself durable, like initdb made the files durable.
    fd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
