"""Where every part of `movr global` listens, and which network hops cross regions.

Pure layout, no processes: the supervisor starts what this describes, HAProxy's configuration
and endpoints.json are rendered from it, and the tests check it without starting anything.

Ports from the base port N, region i in region-map order (the primary region first):
entries N+i, apps N+10+i, the primary N+20, standbys N+21+i, hops N+30…, proxy control N+60,
drill control N+61. With standbys, every region has one, the primary's own too: when the
primary is down, every region still reads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from movr.simulation.hops import Hop
from movr.simulation.matrix import RoundTrips

APPS = 10
DATABASES = 20
HOPS = 30
PROXY_CONTROL = 60
DRILL_CONTROL = 61
HOST = "127.0.0.1"


class DatabaseMode(enum.Enum):
    """`single`: the primary alone, read across regions; `replicas`: a standby in each region."""

    SINGLE = "single"
    REPLICAS = "replicas"


@dataclass(frozen=True, slots=True)
class Topology:
    """Every endpoint and hop of a simulated global deployment."""

    regions: tuple[str, ...]  # primary region first
    base_port: int
    mode: DatabaseMode
    round_trips: RoundTrips
    hops: tuple[Hop, ...]

    @classmethod
    def plan(
        cls, regions: tuple[str, ...], round_trips: RoundTrips, base_port: int, mode: DatabaseMode
    ) -> Topology:
        """Lay out the deployment for `regions` (the first holds the primary)."""
        primary = regions[0]
        wanted: list[tuple[str, str, str, int]] = []  # name, from, to, target port
        for region in regions[1:]:
            wanted.append((f"app:{region}->db:{primary}", region, primary, base_port + DATABASES))
        if mode is DatabaseMode.REPLICAS:
            for region in regions[1:]:  # the primary region's standby is next door: no hop
                name = f"standby:{region}->db:{primary}"
                wanted.append((name, region, primary, base_port + DATABASES))
        for index, target in enumerate(regions):
            for client in regions:
                if client != target:
                    name = f"client:{client}->app:{target}"
                    wanted.append((name, client, target, base_port + APPS + index))
        hops = tuple(
            Hop(name, (HOST, base_port + HOPS + number), (HOST, port), round_trips.rtt_ms(a, b))
            for number, (name, a, b, port) in enumerate(wanted)
        )
        return cls(regions, base_port, mode, round_trips, hops)

    @property
    def primary_region(self) -> str:
        """The region that holds the primary database."""
        return self.regions[0]

    def entry_port(self, region: str) -> int:
        """The load balancer's entry for clients in `region`."""
        return self.base_port + self.regions.index(region)

    def app_port(self, region: str) -> int:
        """Where `region`'s MovR instance listens."""
        return self.base_port + APPS + self.regions.index(region)

    @property
    def primary_port(self) -> int:
        """Where the primary listens."""
        return self.base_port + DATABASES

    def standby_port(self, region: str) -> int:
        """Where `region`'s standby listens."""
        return self.base_port + DATABASES + 1 + self.regions.index(region)

    @property
    def proxy_control_port(self) -> int:
        """The latency proxies' control API."""
        return self.base_port + PROXY_CONTROL

    @property
    def drill_control_port(self) -> int:
        """The supervisor's control API (drills)."""
        return self.base_port + DRILL_CONTROL

    def hop(self, name: str) -> Hop:
        """The hop called `name`."""
        return next(hop for hop in self.hops if hop.name == name)

    def primary_port_for(self, region: str) -> int:
        """The port `region` reaches the primary on: its own, or its hop's."""
        if region == self.primary_region:
            return self.primary_port
        return self.hop(f"app:{region}->db:{self.primary_region}").listen[1]

    def standby_source_port(self, region: str) -> int:
        """The port `region`'s standby streams from (its hop to the primary, if remote)."""
        if region == self.primary_region:
            return self.primary_port
        return self.hop(f"standby:{region}->db:{self.primary_region}").listen[1]

    @property
    def has_standbys(self) -> bool:
        """True when every region reads from a standby of its own."""
        return self.mode is DatabaseMode.REPLICAS

    def serving_order(self, client: str) -> list[tuple[str, int]]:
        """The regions that may serve `client`'s region, nearest first, each with the port to
        reach its app from there (directly in the same region, else through a hop)."""
        order = []
        for region in self.round_trips.nearest(client):
            if region == client:
                order.append((region, self.app_port(region)))
            else:
                order.append((region, self.hop(f"client:{client}->app:{region}").listen[1]))
        return order

    def url(self, port: int) -> str:
        """An HTTP URL on the loopback."""
        return f"http://{HOST}:{port}"
