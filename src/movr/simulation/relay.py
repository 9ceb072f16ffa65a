"""One proxied connection: two delayed directions with half-close, backpressure and counters."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

CHUNK = 64 * 1024
# A direction stops reading once it holds this much undelivered data (plus at most one chunk),
# so a fast sender cannot make the proxy buffer without bound.
QUEUE_LIMIT = 1024 * 1024

Address = tuple[str, int]

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class Counters:
    """What a proxy has carried, summed over its connections."""

    connections_opened: int = 0
    connections_open: int = 0
    connections_refused: int = 0  # accepted and closed at once while the hop was cut
    connect_failures: int = 0  # the target did not accept the proxy's connection
    bytes_client_to_server: int = 0  # delivered, not merely received
    bytes_server_to_client: int = 0
    round_trips: int = 0  # client→server traffic answered by server→client traffic
    peak_queued_bytes: int = 0  # the most one direction ever held: the backpressure bound


class Direction:
    """Bytes from one peer to the other, each chunk delivered `delay` after it arrived.

    Every chunk gets its own deadline (arrival + delay, never before the previous chunk's), and
    one task delivers chunks when their deadlines pass: chunks sent back to back each take
    `delay`, instead of queueing behind the previous chunk's sleep. End of file travels the
    same way, after the data that preceded it.
    """

    def __init__(
        self, delay: float, counters: Counters, *, upstream: bool, limit: int = QUEUE_LIMIT
    ) -> None:
        self._delay = delay
        self._counters = counters
        self.upstream = upstream  # client→server
        self._limit = limit
        self._items: deque[tuple[float, bytes]] = deque()  # (deadline, data); b"" is EOF
        self._queued = 0
        self._arrived = asyncio.Event()
        self._drained = asyncio.Event()

    async def receive(self, source: asyncio.StreamReader, connection: Connection) -> None:
        """Read from the source until EOF, queueing each chunk with its deadline."""
        loop = asyncio.get_running_loop()
        deadline = 0.0
        while True:
            data = await source.read(CHUNK)
            deadline = max(loop.time() + self._delay, deadline)
            self._items.append((deadline, data))
            self._arrived.set()
            if not data:
                return
            connection.saw(self.upstream)
            self._queued += len(data)
            self._counters.peak_queued_bytes = max(self._counters.peak_queued_bytes, self._queued)
            while self._queued > self._limit:
                self._drained.clear()
                await self._drained.wait()

    async def deliver(self, sink: asyncio.StreamWriter) -> None:
        """Write each chunk to the sink once its deadline has passed; pass EOF on last."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._items:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            wait = self._items[0][0] - loop.time()
            if wait > 0:
                # Later arrivals have later deadlines, so nothing can be due before this one.
                await asyncio.sleep(wait)
                continue
            # Everything already due goes out in one write: a burst costs one wakeup.
            now = loop.time()
            batch: list[bytes] = []
            eof = False
            while self._items and self._items[0][0] <= now and not eof:
                data = self._items.popleft()[1]
                eof = not data
                batch.append(data)
            payload = b"".join(batch)
            if payload:
                sink.write(payload)
                await sink.drain()
                self._count(len(payload))
                self._queued -= len(payload)
                self._drained.set()
            if eof:
                if sink.can_write_eof():
                    sink.write_eof()
                return

    def _count(self, size: int) -> None:
        if self.upstream:
            self._counters.bytes_client_to_server += size
        else:
            self._counters.bytes_server_to_client += size


class Connection:
    """A client's connection relayed to the target with a delay in each direction."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        delay: float,
        counters: Counters,
        *,
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self._client = client
        self._server: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._delay = delay
        self._counters = counters
        self._limit = limit
        self._task: asyncio.Task[None] | None = None
        self._last_upstream: bool | None = None

    def start(
        self, target: Address, connect_timeout: float, on_end: Callable[[Connection], None]
    ) -> None:
        """Relay in a task of its own; `on_end(self)` is called when it has ended.

        Not in the task asyncio.start_server gives the client: that one must not be cancelled
        (Python 3.11 logs a spurious error when it is), and a cut cancels connections.
        """
        self._task = asyncio.get_running_loop().create_task(self._run(target, connect_timeout))
        self._task.add_done_callback(lambda task: self._ended(task, on_end))

    async def _run(self, target: Address, connect_timeout: float) -> None:
        self._counters.connections_opened += 1
        self._counters.connections_open += 1
        delay, counters, limit = self._delay, self._counters, self._limit
        up = Direction(delay, counters, upstream=True, limit=limit)
        down = Direction(delay, counters, upstream=False, limit=limit)
        abort = False
        try:
            async with asyncio.TaskGroup() as group:
                # The client's bytes are timed from their arrival, even while the target is
                # still being connected to: connecting must not add to the simulated delay.
                group.create_task(up.receive(self._client[0], self))
                server_reader, server_writer = await self._connect(target, connect_timeout)
                group.create_task(up.deliver(server_writer))
                group.create_task(down.receive(server_reader, self))
                group.create_task(down.deliver(self._client[1]))
        except* _TargetUnreachable:
            # The client sees its connection closed, as it would behind a real balancer.
            self._counters.connect_failures += 1
        except* OSError:
            # One peer reset or vanished: end the other side abruptly too, as a hop would.
            abort = True
        finally:
            self._counters.connections_open -= 1
            self._close(abort=abort or _cancelling())

    async def _connect(
        self, target: Address, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            self._server = await asyncio.wait_for(asyncio.open_connection(*target), timeout)
        except (OSError, TimeoutError) as exc:
            raise _TargetUnreachable(target) from exc
        return self._server

    def _ended(self, task: asyncio.Task[None], on_end: Callable[[Connection], None]) -> None:
        on_end(self)
        if not task.cancelled() and (error := task.exception()) is not None:
            _log.error("relaying a connection failed", exc_info=error)

    def saw(self, upstream: bool) -> None:
        """Note traffic one way: a switch from client→server to server→client is a round trip."""
        if not upstream and self._last_upstream:
            self._counters.round_trips += 1
        self._last_upstream = upstream

    def cancel(self) -> None:
        """Drop the connection at once (both sides, data in flight lost): a partition."""
        self._close(abort=True)
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        """Wait until the connection's task has ended."""
        if self._task is not None:
            await asyncio.wait({self._task})  # never raises, whether the task failed or not

    def _close(self, *, abort: bool) -> None:
        writers = [self._client[1]] + ([self._server[1]] if self._server else [])
        for writer in writers:
            if abort:
                writer.transport.abort()
            else:
                writer.close()


class _TargetUnreachable(Exception):
    """The proxy could not connect to its target."""


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
