"""LatencyProxy on real sockets: delays, pipelining, integrity, half-close, cuts, counters."""

from __future__ import annotations

import asyncio
import random

from movr.simulation.relay import CHUNK, QUEUE_LIMIT
from tests.simulation.support import (
    SLACK,
    closed_by_peer,
    connected,
    echo,
    exchange,
    now,
    proxy_to,
    run,
    serving,
    settle,
)


def test_one_exchange_costs_one_round_trip() -> None:
    rtt = 0.030

    async def scenario() -> list[float]:
        async with (
            serving(echo) as target,
            proxy_to(target, rtt) as proxy,
            connected(proxy.address) as (reader, writer),
        ):
            return [await exchange(reader, writer, b"ping %d" % i) for i in range(3)]

    for elapsed in run(scenario()):
        assert rtt <= elapsed <= rtt + SLACK


def test_chunks_sent_back_to_back_are_each_delayed_from_their_own_arrival() -> None:
    rtt = 0.040
    delay = rtt / 2
    chunk_size, chunks = 100, 10

    async def scenario() -> tuple[list[float], list[float]]:
        arrived: list[float] = []

        async def record(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
            received = 0
            while data := await reader.read(65536):
                received += len(data)
                arrived.extend(now() for _ in range(received // chunk_size - len(arrived)))

        async with (
            serving(record) as target,
            proxy_to(target, rtt) as proxy,
            connected(proxy.address) as (_, writer),
        ):
            sent: list[float] = []
            for i in range(chunks):
                sent.append(now())
                writer.write(bytes([i]) * chunk_size)
                await asyncio.sleep(0.001)
            writer.write_eof()
            await settle(lambda: len(arrived) == chunks)
        return sent, arrived

    sent, arrived = run(scenario())
    for send, arrival in zip(sent, arrived, strict=True):
        assert delay <= arrival - send <= delay + SLACK
    # Delays queued behind one another would put the last chunk about 10 delays out.
    assert arrived[-1] - sent[0] <= delay + (sent[-1] - sent[0]) + SLACK


def test_large_payload_both_ways_arrives_intact_with_bounded_buffering() -> None:
    payload = random.Random(7).randbytes(5 * 1024 * 1024)  # noqa: S311 -- test data

    async def scenario() -> tuple[bytes, dict[str, object]]:
        async with (
            serving(echo) as target,
            proxy_to(target, 0.020) as proxy,
            connected(proxy.address) as (reader, writer),
        ):

            async def send() -> None:
                for offset in range(0, len(payload), 256 * 1024):
                    writer.write(payload[offset : offset + 256 * 1024])
                    await writer.drain()
                writer.write_eof()

            sending = asyncio.create_task(send())
            received = await reader.read(-1)  # until EOF: the echo's half-close
            await sending
            return received, proxy.stats()

    received, stats = run(scenario(), timeout=30)
    assert received == payload
    assert stats["bytes_client_to_server"] == stats["bytes_server_to_client"] == len(payload)
    peak = stats["peak_queued_bytes"]
    assert isinstance(peak, int)
    assert QUEUE_LIMIT // 2 < peak <= QUEUE_LIMIT + CHUNK  # it filled, and reading paused


def test_client_half_close_reaches_the_server_which_still_answers() -> None:
    async def reply_after_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read(-1)
        writer.write(b"reply to " + request)
        await writer.drain()

    async def scenario() -> bytes:
        async with (
            serving(reply_after_eof) as target,
            proxy_to(target, 0.020) as proxy,
            connected(proxy.address) as (reader, writer),
        ):
            writer.write(b"request")
            writer.write_eof()
            return await reader.read(-1)

    assert run(scenario()) == b"reply to request"


def test_server_half_close_reaches_the_client_which_can_still_send() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        late: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def greet_then_listen(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            writer.write(b"greeting")
            writer.write_eof()
            late.set_result(await reader.read(-1))

        async with (
            serving(greet_then_listen) as target,
            proxy_to(target, 0.020) as proxy,
            connected(proxy.address) as (reader, writer),
        ):
            greeting = await reader.read(-1)
            writer.write(b"late data")
            writer.write_eof()
            return greeting, await late

    assert run(scenario()) == (b"greeting", b"late data")


def test_cut_drops_connections_and_refuses_new_ones_until_restored() -> None:
    async def scenario() -> dict[str, object]:
        async with serving(echo) as target, proxy_to(target, 0.020) as proxy:
            async with connected(proxy.address) as (reader, writer):
                await exchange(reader, writer, b"before")
                writer.write(b"in flight")  # dropped with the connection
                proxy.cut()
                assert proxy.is_cut
                assert await closed_by_peer(reader)
            async with connected(proxy.address) as (refused, _):
                assert await closed_by_peer(refused)  # accepted, then closed at once
            proxy.restore()
            async with connected(proxy.address) as (reader_again, writer_again):
                await exchange(reader_again, writer_again, b"after")
            await settle(lambda: proxy.stats()["connections_open"] == 0)
            return proxy.stats()

    stats = run(scenario())
    assert stats["cut"] is False
    assert stats["connections_opened"] == 2
    assert stats["connections_refused"] == 1


def test_counters_count_bytes_connections_and_round_trips() -> None:
    async def scenario() -> dict[str, object]:
        async with serving(echo) as target, proxy_to(target, 0.020) as proxy:
            async with connected(proxy.address) as (reader, writer):
                for request in (b"one", b"two", b"three"):  # three request/response exchanges
                    await exchange(reader, writer, request)
            async with connected(proxy.address) as (pipelined, writer_pipelined):
                writer_pipelined.write(b"pipelined-1")  # two requests, then the answers:
                writer_pipelined.write(b"pipelined-2")  # one round trip
                assert await pipelined.readexactly(22) == b"pipelined-1pipelined-2"
            await settle(lambda: proxy.stats()["connections_open"] == 0)
            return proxy.stats()

    stats = run(scenario())
    assert stats["connections_opened"] == 2
    assert stats["round_trips"] == 4
    assert stats["bytes_client_to_server"] == stats["bytes_server_to_client"] == 11 + 22
    assert stats["connect_failures"] == stats["connections_refused"] == 0


def test_a_target_that_is_down_closes_the_client_connection() -> None:
    async def scenario() -> dict[str, object]:
        async with serving(echo) as target:
            pass  # the port is free again: nothing listens there
        async with proxy_to(target, 0.020) as proxy:
            async with connected(proxy.address) as (reader, _):
                assert await closed_by_peer(reader)
            return proxy.stats()

    stats = run(scenario())
    assert stats["connect_failures"] == 1
    assert stats["connections_open"] == 0


def test_many_concurrent_connections_are_each_delayed_once() -> None:
    rtt = 0.030

    async def scenario() -> list[float]:
        go = asyncio.Event()

        async def client(address: tuple[str, int], i: int) -> float:
            async with connected(address) as (reader, writer):
                await go.wait()  # every connection open first: then all exchange at once
                return await exchange(reader, writer, b"client %d" % i)

        async with serving(echo) as target, proxy_to(target, rtt) as proxy:
            clients = asyncio.gather(*(client(proxy.address, i) for i in range(20)))
            await settle(lambda: proxy.stats()["connections_open"] == 20)
            go.set()
            return await clients

    # Twenty exchanges at once share one event loop with the proxy and the echo server, so each
    # waits for the others' processing: allow twice the usual slack, far below 20 round trips.
    assert all(rtt <= elapsed <= rtt + 2 * SLACK for elapsed in run(scenario()))
