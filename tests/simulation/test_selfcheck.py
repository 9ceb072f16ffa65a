"""The proxies' self-check: a correct proxy passes, one whose real delay differs fails."""

from __future__ import annotations

import pytest

from movr.simulation.latency import LatencyProxy
from movr.simulation.selfcheck import SelfCheckError, measure, self_check
from tests.simulation.support import echo, run, serving


class SlowProxy(LatencyProxy):
    """Declares one round trip and adds 10 ms more: what the self-check exists to catch."""

    @property
    def one_way_delay(self) -> float:
        return self.rtt / 2 + 0.005


async def _unused_port() -> tuple[str, int]:
    async with serving(echo) as address:
        return address  # closed on return: nothing listens there any more


def test_self_check_passes_without_the_real_target_and_leaves_counters_alone() -> None:
    async def scenario() -> tuple[float, dict[str, object]]:
        target = await _unused_port()
        async with LatencyProxy("east->west", ("127.0.0.1", 0), target, 0.040) as proxy:
            return await self_check(proxy), proxy.stats()

    measured, stats = run(scenario())
    assert abs(measured - 0.040) <= 0.005
    assert stats["connections_opened"] == stats["connect_failures"] == 0
    assert stats["bytes_client_to_server"] == 0


def test_self_check_fails_for_a_proxy_whose_delay_differs_from_its_declared_rtt() -> None:
    async def scenario() -> None:
        target = await _unused_port()
        async with SlowProxy("west->europe", ("127.0.0.1", 0), target, 0.020) as proxy:
            await self_check(proxy)

    with pytest.raises(SelfCheckError, match=r"west->europe: measured round trip 3\d\.\d ms"):
        run(scenario())


def test_measure_reports_a_zero_delay_proxy_as_nearly_zero() -> None:
    async def scenario() -> float:
        async with LatencyProxy("local", ("127.0.0.1", 0), await _unused_port(), 0.0) as proxy:
            return await measure(proxy)

    assert 0 <= run(scenario()) <= 0.005


def test_self_check_works_while_the_hop_is_cut() -> None:
    async def scenario() -> float:
        async with LatencyProxy("cut", ("127.0.0.1", 0), await _unused_port(), 0.020) as proxy:
            proxy.cut()
            return await self_check(proxy)

    assert abs(run(scenario()) - 0.020) <= 0.005
