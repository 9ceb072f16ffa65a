"""Helpers for the latency-proxy tests: an event loop with a deadline, servers, clients."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from movr.simulation.latency import LatencyProxy

T = TypeVar("T")
Address = tuple[str, int]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

# The most a delivery may be late on a loaded two-core machine: assertions allow this much
# above the configured delay and nothing below it.
SLACK = 0.015


def run(scenario: Coroutine[Any, Any, T], timeout: float = 20) -> T:
    """Run one async scenario on a fresh event loop; fail it if it takes over `timeout`.

    In a thread of its own: Playwright's sync API (the browser tests, earlier in the same run)
    leaves an event loop marked as running in the main thread, where asyncio.run() refuses.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(scenario, timeout)).result()


def now() -> float:
    """The event loop's clock (monotonic), the one the proxy schedules deliveries with."""
    return asyncio.get_running_loop().time()


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Address]:
    """A TCP server on 127.0.0.1 running `handler` for each connection."""

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except OSError:
            pass  # the proxy dropped the connection (a cut): what some tests want
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    try:
        host, port = server.sockets[0].getsockname()[:2]
        yield host, port
    finally:
        server.close()
        await server.wait_closed()


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send back everything; pass on end of file."""
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.write_eof()


@contextlib.asynccontextmanager
async def proxy_to(target: Address, rtt: float, **options: Any) -> AsyncIterator[LatencyProxy]:
    """A started LatencyProxy on a free port of 127.0.0.1 relaying to `target`."""
    async with LatencyProxy("test-hop", ("127.0.0.1", 0), target, rtt, **options) as proxy:
        yield proxy


@contextlib.asynccontextmanager
async def connected(
    address: Address,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A client connection, closed afterwards whatever state it is in."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> float:
    """Send `payload` to an echo server, read it back; the seconds it took."""
    start = now()
    writer.write(payload)
    await writer.drain()
    assert await reader.readexactly(len(payload)) == payload
    return now() - start


async def closed_by_peer(reader: asyncio.StreamReader, timeout: float = 1.0) -> bool:
    """Whether the peer closes or resets the connection within `timeout` without sending."""
    try:
        return await asyncio.wait_for(reader.read(1), timeout) == b""
    except ConnectionResetError:
        return True


async def settle(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    """Wait until `condition()` holds (counters the proxy updates as connections end)."""
    deadline = now() + timeout
    while not condition():
        assert now() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)
