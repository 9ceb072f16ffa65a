"""Riders in every client region of a running `movr global`: each rider uses the entry of its
own region, and the report tells each region's latency and its round trips to the primary.

The endpoints come from `movr global`'s endpoints.json; the round trips from the latency
proxies' own counters (on the hop from each region's app to the primary), over HTTP like
everything else the load generator asks.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movr.loadgen.config import LoadConfigError
from movr.loadgen.outcomes import Kind
from movr.loadgen.stats import Recorder

ENDPOINTS = "endpoints.json"  # what `movr global` writes in <data folder>/global


@dataclass(frozen=True, slots=True)
class ClientRegions:
    """The entries to load, by client region, and where to count round trips."""

    entries: tuple[tuple[str, str], ...]  # (region, entry URL), the primary's region first
    primary_region: str
    proxy_control: str | None
    database_url: str | None

    @classmethod
    def from_endpoints(cls, path: Path, wanted: str) -> ClientRegions:
        """Read `movr global`'s endpoints.json; `wanted` is "all" or regions, comma-separated."""
        try:
            endpoints: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            entries: dict[str, str] = endpoints["entries"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LoadConfigError(
                f"{path}: not the endpoints of a running `movr global` ({error})"
            ) from None
        names = list(entries) if wanted == "all" else [r.strip() for r in wanted.split(",")]
        unknown = [name for name in names if name not in entries]
        if unknown or not names:
            raise LoadConfigError(
                f"unknown client region {', '.join(unknown) or '(none)'}; "
                f"known: {', '.join(entries)}"
            )
        primary = endpoints.get("databases", {}).get("primary", {})
        return cls(
            entries=tuple((name, entries[name]) for name in names),
            primary_region=primary.get("region", next(iter(entries))),
            proxy_control=endpoints.get("proxy_control"),
            database_url=primary.get("url"),
        )

    def hop_to_primary(self, region: str) -> str | None:
        """The latency proxy between `region`'s app and the primary (None in its region)."""
        return None if region == self.primary_region else f"app:{region}->db:{self.primary_region}"

    def round_trips(self) -> dict[str, int] | None:
        """Round trips each hop has carried so far (None when the proxies cannot be asked)."""
        if self.proxy_control is None:
            return None
        try:
            with urllib.request.urlopen(f"{self.proxy_control}/hops", timeout=10) as answer:  # noqa: S310 -- loopback
                hops: dict[str, dict[str, Any]] = json.loads(answer.read())
        except (OSError, ValueError):
            return None
        return {name: int(stats["round_trips"]) for name, stats in hops.items()}


class RegionRecorder(Recorder):
    """One client region's log of requests, also counted in the whole run's."""

    def __init__(self, run: Recorder) -> None:
        """Record into this region's log and into `run`."""
        super().__init__()
        self._run = run

    def record(self, action: str, kind: Kind, latency_ms: float | None, detail: str = "") -> None:
        """Log one request here and in the run's log."""
        super().record(action, kind, latency_ms, detail)
        self._run.record(action, kind, latency_ms, detail)
