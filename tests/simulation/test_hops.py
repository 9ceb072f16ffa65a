"""The hops file, ProxySet and the control API's routing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from movr.simulation.hops import (
    Hop,
    HopsFileError,
    ProxySet,
    SelfCheckFailed,
    load_hops,
    parse_hops,
    write_hops,
)
from movr.simulation.latency_api import ControlServer
from tests.simulation.support import closed_by_peer, connected, echo, exchange, run, serving

HOP = {"name": "us-west1->primary", "listen": ["127.0.0.1", 17001], "target": ["127.0.0.1", 17500]}


def test_hops_file_round_trips(tmp_path: Path) -> None:
    hops = [
        Hop("a->b", ("127.0.0.1", 17001), ("127.0.0.1", 17500), 66),
        Hop("b->a", ("127.0.0.1", 0), ("localhost", 17501), 0),
    ]
    write_hops(tmp_path / "hops.json", hops)
    assert load_hops(tmp_path / "hops.json") == hops


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "non-empty JSON list"),
        ([], "non-empty JSON list"),
        (["hop"], "hop 0: expected an object"),
        ([{**HOP, "rtt_ms": 1, "delay": 3}], "unknown keys delay"),
        ([{**HOP, "name": "has space", "rtt_ms": 1}], "name 'has space'"),
        ([{**HOP, "name": "a/b", "rtt_ms": 1}], "name 'a/b'"),
        ([{**HOP, "rtt_ms": -1}], "rtt_ms -1 is not"),
        ([{**HOP, "rtt_ms": "66"}], "rtt_ms '66' is not"),
        ([{**HOP}], "rtt_ms None is not"),
        ([{**HOP, "rtt_ms": 1, "listen": ["127.0.0.1", 70000]}], "listen"),
        ([{**HOP, "rtt_ms": 1, "target": ["127.0.0.1", 0]}], "target"),
        ([{**HOP, "rtt_ms": 1, "target": "127.0.0.1:80"}], "target"),
        ([{**HOP, "rtt_ms": 1}, {**HOP, "rtt_ms": 2}], "name 'us-west1->primary' is used twice"),
        (
            [{**HOP, "rtt_ms": 1}, {**HOP, "name": "other", "rtt_ms": 2}],
            r"listen \['127.0.0.1', 17001\] is used twice",
        ),
    ],
)
def test_bad_hops_are_refused(data: Any, message: str) -> None:
    with pytest.raises(HopsFileError, match=message):
        parse_hops(data)


def test_a_bad_hops_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hops.json"
    path.write_text(json.dumps([{**HOP, "rtt_ms": -5}]))
    with pytest.raises(HopsFileError, match=f"hops file {path}: hop 'us-west1->primary'"):
        load_hops(path)


def _hop(name: str, target: tuple[str, int], rtt_ms: float) -> Hop:
    return Hop(name, ("127.0.0.1", 0), target, rtt_ms)


def test_proxy_set_checks_cuts_restores_and_reports_every_hop() -> None:
    async def scenario() -> None:
        async with serving(echo) as target:
            proxies = ProxySet([_hop("a->b", target, 20), _hop("b->a", target, 30)])
            await proxies.start()
            try:
                measured = await proxies.self_check()
                assert set(measured) == {"a->b", "b->a"}
                assert abs(measured["b->a"] - 0.030) <= 0.005
                address = proxies.proxy("a->b").address
                async with connected(address) as (reader, writer):
                    await exchange(reader, writer, b"hello")
                    assert proxies.cut("a->b")["cut"] is True
                    assert await closed_by_peer(reader)
                stats = proxies.restore("a->b")
                assert stats["cut"] is False
                assert stats["round_trips"] == 1
                assert stats["bytes_client_to_server"] == 5
                assert 15 <= stats["measured_rtt_ms"] <= 25
                assert stats["rtt_ms"] == 20
                assert proxies.stats()["b->a"]["connections_opened"] == 0
            finally:
                await proxies.close()

    run(scenario())


def test_proxy_set_self_check_names_every_failing_hop() -> None:
    async def scenario() -> None:
        proxies = ProxySet([_hop("a->b", ("127.0.0.1", 9), 20), _hop("b->a", ("127.0.0.1", 9), 30)])
        await proxies.start()
        try:
            await proxies.self_check(tolerance=0)
        finally:
            await proxies.close()

    with pytest.raises(SelfCheckFailed) as failed:
        run(scenario())
    assert [line.split(":")[0] for line in failed.value.failures] == ["a->b", "b->a"]


def test_proxy_set_refuses_an_address_in_use_and_closes_what_it_started() -> None:
    async def scenario() -> None:
        async with serving(echo) as taken:
            proxies = ProxySet([_hop("first", taken, 1), Hop("second", taken, taken, 1)])
            with pytest.raises(OSError, match=r"second: cannot listen on 127\.0\.0\.1:\d+"):
                await proxies.start()
            assert proxies.proxy("first").stats()["listen"][1] == 0  # closed again

    run(scenario())


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [
        ("GET", "/hops", 200),
        ("GET", "/hops/", 200),
        ("GET", "/hops/a-%3Eb", 200),
        ("POST", "/hops/a->b/cut", 200),
        ("POST", "/hops/a->b/restore", 200),
        ("GET", "/hops/nope", 404),
        ("POST", "/hops/nope/cut", 404),
        ("POST", "/hops/a->b/explode", 404),
        ("GET", "/other", 404),
        ("GET", "/hops/a->b/cut", 405),
        ("POST", "/hops", 405),
    ],
)
def test_control_routes(method: str, target: str, status: int) -> None:
    control = ControlServer(ProxySet([_hop("a->b", ("127.0.0.1", 9), 1)]))
    answer_status, body = control.answer(method, target)
    assert answer_status == status
    assert isinstance(body, dict)
    assert ("error" in body) == (status != 200)


def test_control_server_answers_malformed_requests_with_400() -> None:
    async def scenario() -> bytes:
        control = ControlServer(ProxySet([_hop("a->b", ("127.0.0.1", 9), 1)]))
        await control.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", control.port)
            writer.write(b"nonsense\r\n\r\n")
            response = await reader.read(-1)
            writer.close()
            return response
        finally:
            await control.close()

    assert run(scenario()).startswith(b"HTTP/1.1 400 Bad Request\r\n")
