"""LatencyProxy: a TCP proxy for one directed hop between regions, adding rtt/2 each way.

Run as `python -m movr.simulation.latency --hops FILE --control-port N` to start a set of them
(see `movr.simulation.process`).
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, Self

from movr.simulation.relay import QUEUE_LIMIT, Address, Connection, Counters


class LatencyProxy:
    """Listens on `listen` and relays every connection to `target`, `rtt`/2 later each way.

    `cut()` partitions the hop (open connections dropped, new ones closed at once) until
    `restore()`. Counters are summed over all connections; `stats()` reports them.
    """

    def __init__(
        self,
        name: str,
        listen: Address,
        target: Address,
        rtt: float,
        *,
        queue_limit: int = QUEUE_LIMIT,
        connect_timeout: float = 10.0,
    ) -> None:
        if rtt < 0:
            raise ValueError(f"{name}: round-trip time {rtt!r} is negative")
        self.name = name
        self.listen = listen
        self.target = target
        self.rtt = rtt  # seconds
        self._queue_limit = queue_limit
        self._connect_timeout = connect_timeout
        self._counters = Counters()
        self._connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._cut = False

    @property
    def one_way_delay(self) -> float:
        """The delay added to each direction, in seconds: half the round trip."""
        return self.rtt / 2

    @property
    def address(self) -> Address:
        """The address actually listened on (the port is known here when `listen` asks for 0)."""
        if self._server is None or not self._server.sockets:
            return self.listen
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def is_cut(self) -> bool:
        """Whether the hop is partitioned."""
        return self._cut

    async def start(self) -> None:
        """Start listening (OSError if the address is taken)."""
        accept = functools.partial(self._accept, self.target, self._counters, self._connections)
        self._server = await asyncio.start_server(accept, *self.listen)

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        await _drop(self._connections)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def cut(self) -> None:
        """Partition the hop: close every open connection at once and refuse new ones."""
        self._cut = True
        for connection in list(self._connections):
            connection.cancel()

    def restore(self) -> None:
        """End the partition: new connections are relayed again."""
        self._cut = False

    def stats(self) -> dict[str, Any]:
        """The hop's configuration, state and counters as plain JSON-ready data."""
        return {
            "name": self.name,
            "listen": list(self.address),
            "target": list(self.target),
            "rtt_ms": self.rtt * 1000,
            "cut": self._cut,
            **asdict(self._counters),
        }

    @asynccontextmanager
    async def probe(self, target: Address) -> AsyncIterator[Address]:
        """A private entry on 127.0.0.1 relaying to `target` exactly as this hop relays.

        Used to measure the hop without its real target and without touching its counters;
        cutting the hop does not affect it.
        """
        connections: set[Connection] = set()
        accept = functools.partial(self._accept, target, Counters(), connections, refusable=False)
        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        try:
            host, port = server.sockets[0].getsockname()[:2]
            yield str(host), int(port)
        finally:
            server.close()
            await _drop(connections)
            await server.wait_closed()

    def _accept(
        self,
        target: Address,
        counters: Counters,
        connections: set[Connection],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        refusable: bool = True,
    ) -> None:
        if refusable and self._cut:
            # Accepted and closed at once: the client sees the hop fail immediately rather
            # than hang on a connect timeout, which keeps drills fast.
            counters.connections_refused += 1
            writer.transport.abort()
            return
        connection = Connection(
            (reader, writer), self.one_way_delay, counters, limit=self._queue_limit
        )
        connections.add(connection)
        connection.start(target, self._connect_timeout, on_end=connections.discard)


async def _drop(connections: set[Connection]) -> None:
    """Cancel every connection and wait until each has ended."""
    dropping = list(connections)
    for connection in dropping:
        connection.cancel()
    for connection in dropping:
        await connection.wait()


if __name__ == "__main__":
    # Imported here, not at the top: process imports this module (as movr.simulation.latency),
    # and a top-level import would make that a cycle for every other importer.
    from movr.simulation.process import main

    sys.exit(main())
