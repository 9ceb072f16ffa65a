"""A proxy measures itself: small exchanges through it with an internal echo server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from movr.simulation.latency import LatencyProxy
from movr.simulation.relay import CHUNK, Address

DEFAULT_TOLERANCE = 0.005  # seconds
DEFAULT_EXCHANGES = 5


class SelfCheckError(RuntimeError):
    """A proxy's measured round trip is not the one it declares."""


async def self_check(
    proxy: LatencyProxy,
    tolerance: float = DEFAULT_TOLERANCE,
    exchanges: int = DEFAULT_EXCHANGES,
) -> float:
    """The proxy's measured round trip in seconds; SelfCheckError if it is off by > tolerance."""
    measured = await measure(proxy, exchanges)
    if abs(measured - proxy.rtt) > tolerance:
        raise SelfCheckError(
            f"{proxy.name}: measured round trip {measured * 1000:.1f} ms, "
            f"configured {proxy.rtt * 1000:.1f} ms (tolerance {tolerance * 1000:.1f} ms)"
        )
    return measured


async def measure(proxy: LatencyProxy, exchanges: int = DEFAULT_EXCHANGES) -> float:
    """The round trip the proxy adds, in seconds (the fastest of `exchanges`).

    The exchanges go through the proxy's own relay (its `probe` entry) to an echo server in
    this process, so the real target need not be up; the same exchanges made directly with the
    echo server are subtracted, leaving only what the proxy adds. The fastest exchange, not the
    median: a busy CPU only ever adds time (a delay never fires early), so the fastest is the
    one least disturbed, and a proxy that adds too much still shows it in every exchange.
    """
    if exchanges < 1:
        raise ValueError("at least one exchange is needed to measure a proxy")
    async with echo_server() as echo, proxy.probe(echo) as entry:
        direct = await _fastest_exchange(echo, exchanges)
        through = await _fastest_exchange(entry, exchanges)
    return max(0.0, through - direct)


@asynccontextmanager
async def echo_server() -> AsyncIterator[Address]:
    """An echo server on 127.0.0.1 (an ephemeral port) for as long as the context lasts."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    try:
        host, port = server.sockets[0].getsockname()[:2]
        yield str(host), int(port)
    finally:
        server.close()
        await server.wait_closed()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # the measuring client went away: nothing to answer
    finally:
        writer.close()


async def _fastest_exchange(address: Address, exchanges: int) -> float:
    """The shortest time, in seconds, to send a few bytes to an echo server and read them back."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(*address)
    samples: list[float] = []
    try:
        # One extra exchange first, not counted: it pays for connecting to the target.
        for i in range(exchanges + 1):
            payload = b"%08d" % i
            start = loop.time()
            writer.write(payload)
            await writer.drain()
            await reader.readexactly(len(payload))
            if i:
                samples.append(loop.time() - start)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return min(samples)
