"""bench.regions judges issue 14's targets from its figures: a miss must show as a miss."""

from __future__ import annotations

from typing import Any

from bench.regions import render_drills, render_targets

PRIMARY, WEST = "gcp-us-east1", "gcp-us-west1"
HELD = [{"description": "one active ride per user", "ok": True}]


def _load(p50: dict[str, float]) -> dict[str, Any]:
    actions = {action: {"count": 10, "p50_ms": ms, "p99_ms": ms} for action, ms in p50.items()}
    return {"actions": actions, "invariants": HELD, "requests": 40}


def _drill(timeline: str, errors: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    load = {"requests": 200, "errors": errors or {}, "invariants": HELD}
    return {"timeline": timeline, "load": load}


Figures = tuple[dict[str, Any], dict[str, Any]]


def _figures(west_browse: float, failover: float, outage: dict[str, dict[str, int]]) -> Figures:
    primary = {"browse": 6.0, "history": 6.0, "start_ride": 6.0, "end_ride": 6.0}
    west = {"browse": west_browse, "history": 7.0, "start_ride": 75.0, "end_ride": 76.0}
    results = {"replicas": {"reports": {PRIMARY: _load(primary), WEST: _load(west)}}}
    drills = {
        "region-down": _drill(f"verdict: PASS (failover s {failover}, errors 0, requests 28)"),
        "primary-down": _drill("verdict: PASS (unexpected errors 0, lost rides 0)", outage),
    }
    return results, drills


def test_every_target_met_reads_yes() -> None:
    results, drills = _figures(7.0, 1.2, {"end_ride": {"503 service_unavailable": 3}})
    table = render_targets(results, drills)
    assert "**no**" not in table
    assert f"| {WEST} browse p50 ≤ 11.0 ms | 7.0 ms | yes |" in table
    assert f"| {WEST} start_ride p50 ≤ 82.0 ms | 75.0 ms | yes |" in table


def test_misses_read_no() -> None:
    results, drills = _figures(12.0, 3.5, {"end_ride": {"500": 1}})
    table = render_targets(results, drills)
    assert f"| {WEST} browse p50 ≤ 11.0 ms | 12.0 ms | **no** |" in table
    assert "| region-down: failover ≤ 3 s | 3.50 s | **no** |" in table
    assert "| primary-down: no 5xx other than 503 | 500 | **no** |" in table


def test_drill_failures_are_counted_per_drill() -> None:
    _, drills = _figures(7.0, 1.2, {"end_ride": {"503 service_unavailable": 3}})
    table = render_drills(drills)
    assert "| region-down | PASS | 200 | 0 | 0.00% | none | hold |" in table
    assert "| primary-down | PASS | 200 | 3 | 1.50% |" in table
