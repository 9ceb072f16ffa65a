"""`movr global`'s layout and its load balancer's configuration, without starting anything."""

from __future__ import annotations

from pathlib import Path

from movr.regions import RegionMap
from movr.simulation import haproxy
from movr.simulation.matrix import RoundTrips
from movr.simulation.topology import DatabaseMode, Topology

EAST, WEST, EUROPE = "gcp-us-east1", "gcp-us-west1", "gcp-europe-west1"


def plan(mode: DatabaseMode = DatabaseMode.REPLICAS) -> Topology:
    return Topology.plan(RegionMap.default().regions, RoundTrips.default(), 9000, mode)


def test_every_cross_region_hop_has_a_proxy_with_the_matrix_round_trip() -> None:
    hops = {hop.name: hop for hop in plan().hops}
    assert hops[f"app:{WEST}->db:{EAST}"].rtt_ms == 66
    assert hops[f"app:{EUROPE}->db:{EAST}"].rtt_ms == 64
    assert hops[f"standby:{EUROPE}->db:{EAST}"].rtt_ms == 64
    assert hops[f"client:{WEST}->app:{EUROPE}"].rtt_ms == 146
    assert len(hops) == 2 + 2 + 6  # apps to the primary, standbys to it, clients to far apps
    assert len({hop.listen[1] for hop in hops.values()}) == len(hops)


def test_a_single_database_has_no_standbys_and_no_standby_hops() -> None:
    single = plan(DatabaseMode.SINGLE)
    assert not single.has_standbys
    assert not [hop for hop in single.hops if hop.name.startswith("standby:")]


def test_ports_follow_the_base_port() -> None:
    topology = plan()
    assert [topology.entry_port(r) for r in (EAST, WEST, EUROPE)] == [9000, 9001, 9002]
    assert [topology.app_port(r) for r in (EAST, WEST, EUROPE)] == [9010, 9011, 9012]
    assert topology.primary_port == 9020
    assert topology.primary_port_for(EAST) == 9020  # the primary's region: no hop
    assert topology.primary_port_for(WEST) == topology.hop(f"app:{WEST}->db:{EAST}").listen[1]


def test_clients_are_served_by_their_own_region_then_the_nearest() -> None:
    order = [region for region, _ in plan().serving_order(WEST)]
    assert order == [WEST, EAST, EUROPE]  # 66 ms before 146 ms
    assert [region for region, _ in plan().serving_order(EUROPE)] == [EUROPE, EAST, WEST]


def test_the_balancer_checks_health_locally_and_fails_over_in_distance_order() -> None:
    config = haproxy.render(plan(), Path("/run/haproxy.sock"))
    assert "option httpchk GET /healthz" in config  # needs no database: a shared outage
    backend = config.split(f"\nbackend serve-{WEST}\n")[1].split("\n\n")[0].splitlines()
    assert backend[0].startswith(f"    server {WEST} 127.0.0.1:9011 check")
    assert "backup" not in backend[0]
    assert [line.split()[1] for line in backend] == [WEST, EAST, EUROPE]
    assert [line.endswith(" backup") for line in backend] == [False, True, True]
    assert "bind 127.0.0.1:9001" in config
    assert "stats socket /run/haproxy.sock" in config
