"""Where a read runs: the region's replica when it is healthy and has the reader's own writes.

PostgreSQL: `MOVR_READ_DATABASE_URL` names a hot standby in the region. A client that wrote
carries a `ReadToken` (the write's transaction id); a read for it on the replica first waits,
for a bounded time, until the replica has replayed that transaction, else reads the primary.
A replica that is down or lags more than `max_lag` is not read. CockroachDB: with follower
reads the "replica" is the same cluster read `AS OF SYSTEM TIME follower_read_timestamp()`,
and a client that wrote within that window reads the present instead.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Engine, text

from movr.db.transaction import Units

# How far behind the present follower_read_timestamp() reads (CockroachDB: about 4.8 s with
# the default closed-timestamp settings), plus a margin.
FOLLOWER_READ_WINDOW = 5.0
# A replica's health is measured at most this often per process (the read path only looks).
HEALTH_TTL = 0.5
WAIT_STEP = 0.01
XID_MAX = 2**63 - 1

# Lag: nothing received is left to replay → 0; else how old the last replayed commit is. One
# statement also tells whether transaction :xid is visible there yet ('future': the standby
# has not seen that id; pg_xact_status would raise).
REPLICA_STATE = text(
    """
    SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS lag,
           CASE WHEN CAST(:xid AS bigint) IS NULL THEN NULL
                WHEN CAST(CAST(:xid AS text) AS xid8) < pg_snapshot_xmax(pg_current_snapshot())
                THEN pg_xact_status(CAST(CAST(:xid AS text) AS xid8))
                ELSE 'future' END AS xact,
           -- Receiving WAL from the primary right now (else the primary is down or cut off).
           EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming
    """
)
PENDING = frozenset({"future", "in progress"})


@dataclass(frozen=True, slots=True)
class ReadToken:
    """What a client carries after a write so that its next reads see it."""

    xid: int | None  # the write's transaction id on the primary (PostgreSQL)
    written_at: float  # when it was acknowledged (Unix time; CockroachDB's window)

    def encode(self) -> str:
        """`<xid>.<milliseconds>`: the session's and the MovR-Read-After header's form."""
        return f"{self.xid or 0}.{int(self.written_at * 1000)}"

    @classmethod
    def parse(cls, value: str) -> ReadToken:
        """The token `encode` wrote; ValueError for anything else."""
        xid_text, _, millis_text = value.strip().partition(".")
        if not (xid_text.isdigit() and millis_text.isdigit()) or len(value) > 40:
            raise ValueError("expected <transaction id>.<milliseconds>")
        xid, millis = int(xid_text), int(millis_text)
        if xid > XID_MAX:
            raise ValueError("transaction id out of range")
        return cls(xid or None, millis / 1000)


class ReplicaHealth(enum.Enum):
    """What the last look at the replica found."""

    NONE = "none"  # no replica configured
    OK = "ok"
    LAGGING = "lagging"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """The replica's health and lag, and when that was measured (monotonic seconds)."""

    health: ReplicaHealth
    lag: float | None = None
    measured_at: float = 0.0
    # False when the replica receives nothing from the primary: writes are likely to fail.
    streaming: bool = True


class ReadListener(Protocol):
    """Observes read routing (metrics plug in here)."""

    def served(self, by: str) -> None:
        """A read ran on `by` ("replica" or "primary")."""

    def fell_back(self, reason: str) -> None:
        """A read that could have used the replica went to the primary, and why."""

    def waited(self, seconds: float) -> None:
        """A read waited this long for the replica to replay the reader's write."""

    def measured(self, state: ReplicaState) -> None:
        """The replica's state was measured."""


class QuietListener:
    """Observes nothing (scripts, tests)."""

    def served(self, by: str) -> None:
        """Nothing."""

    def fell_back(self, reason: str) -> None:
        """Nothing."""

    def waited(self, seconds: float) -> None:
        """Nothing."""

    def measured(self, state: ReplicaState) -> None:
        """Nothing."""


Targets = tuple[tuple[str, Units[Connection]], ...]


@dataclass(frozen=True, slots=True)
class Route:
    """Where to run a read, in order: the next is tried if one cannot be reached."""

    targets: Targets
    # The reader's write is visible on the first target (the session may forget its token).
    caught_up: bool


class ReadRouter:
    """Chooses the connection of every read that a replica may serve."""

    def __init__(
        self,
        primary: Units[Connection],
        replica: Engine | None = None,
        *,
        follower_reads: bool = False,
        max_lag: float = 2.0,
        max_wait: float = 0.5,
        read_your_writes: bool = True,
        listener: ReadListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`replica`: a hot standby's engine, or with `follower_reads` CockroachDB's follower
        engine; None: every read goes to the primary."""
        self.primary = primary
        self.replica = replica
        self.follower_reads = follower_reads
        self.max_lag = max_lag
        self.max_wait = max_wait
        self.read_your_writes = read_your_writes
        self.listener = listener or QuietListener()
        self._clock, self._wall_clock, self._sleep = clock, wall_clock, sleep
        self._state = ReplicaState(ReplicaHealth.NONE if replica is None else ReplicaHealth.OK)
        self._measuring = threading.Lock()
        self._primary_only: Targets = (("primary", primary),)
        if replica is not None:
            self._replica_first: Targets = (("replica", replica), ("primary", primary))
            self._primary_then_replica: Targets = (("primary", primary), ("replica", replica))

    @property
    def has_replica(self) -> bool:
        """True when some reads may be served elsewhere than the primary."""
        return self.replica is not None

    def route(self, token: ReadToken | None) -> Route:
        """Where a read for a client holding `token` (None: no recent write) runs."""
        if self.replica is None:
            return Route(self._primary_only, caught_up=True)
        if self.follower_reads:
            recent = self._wrote_recently(token, FOLLOWER_READ_WINDOW)
            reason = "own_write" if recent else None
        else:
            reason = self._reason_to_avoid_replica(token)
        if reason is None:
            return Route(self._replica_first, caught_up=True)
        self.listener.fell_back(reason)
        # A lagging replica still beats an unreachable primary, unless the reader must see
        # its own write.
        stale_ok = reason == "lagging" and (token is None or not self.read_your_writes)
        return Route(self._primary_then_replica if stale_ok else self._primary_only, False)

    def _reason_to_avoid_replica(self, token: ReadToken | None) -> str | None:
        """Why this read should not run on the replica (None: it may)."""
        state = self.state()
        if state.health is not ReplicaHealth.OK:
            return str(state.health.value)
        if token is None or not self.read_your_writes:
            return None
        if token.xid is None:
            # A write whose transaction id is unknown: read the present until any healthy
            # replica must have it.
            return "own_write" if self._wrote_recently(token, self.max_lag) else None
        return None if self._wait_for(token.xid) else "own_write"

    def state(self) -> ReplicaState:
        """The replica's state, measured at most every HEALTH_TTL (by one thread at a time)."""
        state = self._state
        stale = self._clock() - state.measured_at > HEALTH_TTL
        if self.replica is None or not stale or not self._measuring.acquire(blocking=False):
            return state
        try:
            return self._measure(None)[0]
        finally:
            self._measuring.release()

    def primary_unreachable(self) -> bool:
        """True while this region's standby receives nothing from the primary: the pages then
        say that MovR is read-only for now (follower reads cannot tell: False)."""
        if self.replica is None or self.follower_reads:
            return False
        state = self.state()
        return state.health is not ReplicaHealth.DOWN and not state.streaming

    def mark_down(self) -> None:
        """The replica could not be reached while reading: use the primary until next look."""
        self._publish(ReplicaState(ReplicaHealth.DOWN, None, self._clock()))

    def _wait_for(self, xid: int) -> bool:
        """Wait until the replica shows transaction `xid`; False after max_wait."""
        started = self._clock()
        while True:
            state, xact = self._measure(xid)
            if state.health is not ReplicaHealth.OK:
                return False
            if xact not in PENDING:
                if self._clock() > started:
                    self.listener.waited(self._clock() - started)
                return True
            if self._clock() - started >= self.max_wait:
                self.listener.waited(self._clock() - started)
                return False
            self._sleep(WAIT_STEP)

    def _measure(self, xid: int | None) -> tuple[ReplicaState, str | None]:
        """Ask the replica for its lag (and whether it shows transaction `xid`)."""
        assert self.replica is not None  # noqa: S101 -- callers check
        try:
            with self.replica.connect() as connection:
                row = connection.execute(REPLICA_STATE, {"xid": xid}).one()
        except Exception:
            state = ReplicaState(ReplicaHealth.DOWN, None, self._clock())
            self._publish(state)
            return state, None
        lag = None if row.lag is None else float(row.lag)
        healthy = lag is not None and lag <= self.max_lag
        state = ReplicaState(
            ReplicaHealth.OK if healthy else ReplicaHealth.LAGGING,
            lag,
            self._clock(),
            streaming=bool(row.streaming),
        )
        self._publish(state)
        return state, row.xact

    def _publish(self, state: ReplicaState) -> None:
        self._state = state
        self.listener.measured(state)

    def _wrote_recently(self, token: ReadToken | None, window: float) -> bool:
        if token is None or not self.read_your_writes:
            return False
        return self._wall_clock() - token.written_at < window
