"""The faults `movr chaos` applies: each acts on the MovR under test, then is removed.

A held fault stays applied for `--fault-for` (refuse, freeze, lock); the others are an event
whose removal is the service being whole again (restart, kill-worker, drain).
"""

from __future__ import annotations

import signal
import time
from typing import ClassVar

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from movr.chaos import processes
from movr.chaos.target import Target, postmaster

LOCKABLE = ("vehicles", "rides", "users", "api_tokens", "idempotency_keys")
WORKER_RESPAWN_TIMEOUT = 30.0


class FaultError(RuntimeError):
    """A fault cannot be applied to this target; the message says why."""


class Fault:
    """One named fault; `apply` and `remove` return the line the timeline shows."""

    name: ClassVar[str]
    summary: ClassVar[str]
    held: ClassVar[bool] = True

    def apply(self, target: Target) -> str:
        """Hurt the target."""
        raise NotImplementedError

    def remove(self, target: Target) -> str:
        """Undo (or wait out) what `apply` did; safe to call once after `apply`."""
        raise NotImplementedError


class Refuse(Fault):
    """PostgreSQL stopped: connections refused until it is started again."""

    name = "refuse"
    summary = "stop PostgreSQL (fast), start it after --fault-for"

    def apply(self, target: Target) -> str:
        """Stop the database."""
        target.database.stop()
        return "PostgreSQL stopped: connections are refused"

    def remove(self, target: Target) -> str:
        """Start it again."""
        target.database.start()
        return "PostgreSQL started"


class Restart(Refuse):
    """A restart of PostgreSQL: stopped and started at once."""

    name = "restart"
    summary = "restart PostgreSQL (fast stop, then start)"
    held = False

    def apply(self, target: Target) -> str:
        """Stop the database (started again by `remove`, at once)."""
        target.database.stop()
        return "PostgreSQL stopped for a restart"


class Freeze(Fault):
    """PostgreSQL hangs: every one of its processes stopped by SIGSTOP, as a dead network
    path or a stalled disk would look to MovR."""

    name = "freeze"
    summary = "SIGSTOP every PostgreSQL process, SIGCONT after --fault-for"

    def __init__(self) -> None:
        """Nothing frozen yet."""
        self._frozen: list[int] = []

    def apply(self, target: Target) -> str:
        """SIGSTOP the postmaster first (it forks no one then), then its children."""
        master = postmaster(target.database)
        if master is None:
            raise FaultError("PostgreSQL is not running: nothing to freeze")
        self._frozen = processes.send(processes.tree(master), signal.SIGSTOP)
        return f"PostgreSQL frozen (SIGSTOP to {len(self._frozen)} processes)"

    def remove(self, target: Target) -> str:
        """SIGCONT to every process frozen."""
        thawed = processes.send(reversed(self._frozen), signal.SIGCONT)
        return f"PostgreSQL thawed (SIGCONT to {len(thawed)} processes)"


class Lock(Fault):
    """A table held in ACCESS EXCLUSIVE mode: every statement touching it waits."""

    name = "lock"
    summary = "hold an ACCESS EXCLUSIVE lock on a table (--lock-table) for --fault-for"

    def __init__(self, table: str = "vehicles") -> None:
        """Lock `table`, one of LOCKABLE (never a name from outside that list)."""
        if table not in LOCKABLE:
            raise FaultError(f"{table!r} is not one of {', '.join(LOCKABLE)}")
        self.table = table
        self._engine: Engine | None = None
        self._holder: Connection | None = None

    def apply(self, target: Target) -> str:
        """Take the lock in a transaction left open."""
        self._engine = create_engine(target.database_url, poolclass=NullPool)
        self._holder = self._engine.connect()
        waited = time.monotonic()
        self._holder.execute(text(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE"))
        waited = time.monotonic() - waited
        return f"ACCESS EXCLUSIVE lock on {self.table} held (acquired in {waited:.2f} s)"

    def remove(self, target: Target) -> str:
        """Roll the transaction back, which releases the lock."""
        if self._holder is not None:
            self._holder.rollback()
            self._holder.close()
        if self._engine is not None:
            self._engine.dispose()
        return f"lock on {self.table} released"


class KillWorker(Fault):
    """One gunicorn worker killed outright, as the OOM killer would."""

    name = "kill-worker"
    summary = "SIGKILL one gunicorn worker; removed once gunicorn has replaced it"
    held = False

    def __init__(self) -> None:
        """No victim yet."""
        self._master: int | None = None
        self._workers = 0

    def apply(self, target: Target) -> str:
        """SIGKILL the oldest worker of the server's master."""
        self._master = target.server_pid()
        if self._master is None:
            raise FaultError(
                "kill-worker needs the server's pid: run it on a MovR movr chaos starts"
            )
        workers = processes.children(self._master)
        if not workers:
            raise FaultError(f"gunicorn master {self._master} has no worker to kill")
        self._workers = len(workers)
        processes.send(workers[:1], signal.SIGKILL)
        return f"worker {workers[0]} killed (SIGKILL); {len(workers) - 1} left serving"

    def remove(self, target: Target) -> str:
        """Wait until gunicorn has as many workers as before."""
        deadline = time.monotonic() + WORKER_RESPAWN_TIMEOUT
        while self._master is not None and time.monotonic() < deadline:
            if len(processes.children(self._master)) >= self._workers:
                return "gunicorn has replaced the worker"
            time.sleep(0.05)
        return f"the worker was not replaced within {WORKER_RESPAWN_TIMEOUT:.0f} s"


class Drain(Fault):
    """A redeploy: the server gets SIGTERM (graceful drain), exits, and a new one starts on
    the same port. Chosen over gunicorn's HUP, which keeps the master and its socket: what
    operators do on a deploy, and what issue 15 item 7 saw reset connections."""

    name = "drain"
    summary = "SIGTERM the server, wait for its exit, start a new one on the same port"
    held = False

    def apply(self, target: Target) -> str:
        """SIGTERM, and wait for the old server's exit."""
        target.drain_server()
        return "server drained and exited after SIGTERM"

    def remove(self, target: Target) -> str:
        """A new server, answering."""
        target.start_server()
        return "a new server answers"


FAULTS: dict[str, type[Fault]] = {
    fault.name: fault for fault in (Refuse, Freeze, Lock, Restart, KillWorker, Drain)
}


def make_fault(name: str, *, lock_table: str) -> Fault:
    """The fault called `name` (FaultError for an unknown one)."""
    if name == Lock.name:
        return Lock(lock_table)
    if name not in FAULTS:
        raise FaultError(f"no fault {name!r}: choose one of {', '.join(FAULTS)}")
    return FAULTS[name]()
