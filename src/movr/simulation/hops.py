"""The hops file and ProxySet: every latency proxy of a simulated deployment, run together."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movr.simulation.latency import LatencyProxy
from movr.simulation.relay import Address
from movr.simulation.selfcheck import DEFAULT_TOLERANCE, self_check

# Hop names appear in control URLs (one path segment) and in log lines.
_HOP_NAME = re.compile(r"^[^\s/]{1,100}$")


class HopsFileError(ValueError):
    """A hops file is malformed."""


class SelfCheckFailed(RuntimeError):
    """One or more proxies measured a round trip other than their configured one."""

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__("; ".join(failures))
        self.failures = list(failures)  # one line per failing hop


@dataclass(frozen=True, slots=True)
class Hop:
    """One directed hop: connections to `listen` reach `target` with `rtt_ms` added."""

    name: str
    listen: Address
    target: Address
    rtt_ms: float

    def as_dict(self) -> dict[str, Any]:
        """The hop as one entry of a hops file."""
        return {
            "name": self.name,
            "listen": list(self.listen),
            "target": list(self.target),
            "rtt_ms": self.rtt_ms,
        }


def load_hops(path: str | Path) -> list[Hop]:
    """Read a hops file: `[{"name", "listen": [host, port], "target": [host, port], "rtt_ms"}]`."""
    try:
        return parse_hops(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, HopsFileError) as exc:
        raise HopsFileError(f"hops file {path}: {exc}") from exc


def write_hops(path: str | Path, hops: Iterable[Hop]) -> None:
    """Write a hops file that `load_hops` reads back."""
    Path(path).write_text(json.dumps([hop.as_dict() for hop in hops], indent=2) + "\n")


def parse_hops(data: Any) -> list[Hop]:
    """Validate decoded hops-file JSON: names and listen addresses unique, rtt_ms >= 0."""
    if not isinstance(data, list) or not data:
        raise HopsFileError("expected a non-empty JSON list of hops")
    hops = [_parse_hop(i, entry) for i, entry in enumerate(data)]
    names: set[str] = set()
    listening: set[Address] = set()
    for hop in hops:
        if hop.name in names:
            raise HopsFileError(f"hop name {hop.name!r} is used twice")
        if hop.listen in listening:  # port 0 (any free port) never matches: it is not kept
            raise HopsFileError(f"hop {hop.name!r}: listen {list(hop.listen)} is used twice")
        names.add(hop.name)
        if hop.listen[1] != 0:
            listening.add(hop.listen)
    return hops


def _parse_hop(index: int, entry: Any) -> Hop:
    where = f"hop {index}"
    if not isinstance(entry, dict):
        raise HopsFileError(f"{where}: expected an object")
    unknown = set(entry) - {"name", "listen", "target", "rtt_ms"}
    if unknown:
        raise HopsFileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not _HOP_NAME.match(name):
        raise HopsFileError(f"{where}: name {name!r} must be 1-100 characters, no spaces or /")
    where = f"hop {name!r}"
    rtt = entry.get("rtt_ms")
    # bool is an int subclass: `true` is a typo, not one millisecond.
    if (
        not isinstance(rtt, int | float)
        or isinstance(rtt, bool)
        or not math.isfinite(rtt)
        or rtt < 0
    ):
        raise HopsFileError(f"{where}: rtt_ms {rtt!r} is not a non-negative number")
    return Hop(
        name=name,
        listen=_address(where, "listen", entry.get("listen"), allow_any_port=True),
        target=_address(where, "target", entry.get("target"), allow_any_port=False),
        rtt_ms=float(rtt),
    )


def _address(where: str, key: str, value: Any, *, allow_any_port: bool) -> Address:
    lowest = 0 if allow_any_port else 1  # listening on port 0 picks a free port
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and value[0]
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
        and lowest <= value[1] <= 65535
    ):
        return value[0], value[1]
    raise HopsFileError(f"{where}: {key} {value!r} is not [host, port]")


class ProxySet:
    """Every hop's proxy: started, self-checked, cut and restored by name, closed together."""

    def __init__(self, hops: Iterable[Hop]) -> None:
        self._proxies = {
            hop.name: LatencyProxy(hop.name, hop.listen, hop.target, hop.rtt_ms / 1000)
            for hop in hops
        }
        self._measured: dict[str, float] = {}

    @property
    def names(self) -> list[str]:
        """Hop names in hops-file order."""
        return list(self._proxies)

    def proxy(self, name: str) -> LatencyProxy:
        """The proxy of one hop; KeyError for an unknown hop."""
        return self._proxies[name]

    async def start(self) -> None:
        """Start every proxy; if one cannot listen, close the others and raise its OSError."""
        for proxy in self._proxies.values():
            try:
                await proxy.start()
            except OSError as exc:
                await self.close()
                host, port = proxy.listen
                raise OSError(exc.errno, f"{proxy.name}: cannot listen on {host}:{port}") from exc

    async def self_check(self, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, float]:
        """Measure every hop at once; the measured round trips in seconds by hop name.

        SelfCheckFailed, with one line per failing hop, if any is off by more than `tolerance`.
        """
        names = list(self._proxies)
        results = await asyncio.gather(
            *(self_check(self._proxies[name], tolerance) for name in names),
            return_exceptions=True,
        )
        failures: list[str] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, float):
                self._measured[name] = result
            elif isinstance(result, Exception):
                failures.append(str(result) if name in str(result) else f"{name}: {result!r}")
            else:
                raise result  # cancellation and other BaseExceptions are not a measurement
        if failures:
            raise SelfCheckFailed(failures)
        return dict(self._measured)

    def cut(self, name: str) -> dict[str, Any]:
        """Partition one hop; its stats."""
        self._proxies[name].cut()
        return self.hop_stats(name)

    def restore(self, name: str) -> dict[str, Any]:
        """End one hop's partition; its stats."""
        self._proxies[name].restore()
        return self.hop_stats(name)

    def hop_stats(self, name: str) -> dict[str, Any]:
        """One hop's stats, with its measured round trip (ms; None before the self-check)."""
        measured = self._measured.get(name)
        return {
            **self._proxies[name].stats(),
            "measured_rtt_ms": None if measured is None else round(measured * 1000, 2),
        }

    def stats(self) -> dict[str, dict[str, Any]]:
        """Every hop's stats by name."""
        return {name: self.hop_stats(name) for name in self._proxies}

    async def close(self) -> None:
        """Close every proxy and its connections."""
        for proxy in self._proxies.values():
            await proxy.close()
