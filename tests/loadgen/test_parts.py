"""Small parts: run control, fleet bias, target cities, the /metrics parser."""

from __future__ import annotations

import random

import pytest

from movr.loadgen.cities import CityError, choose_cities
from movr.loadgen.control import RunControl
from movr.loadgen.fleet import Fleet
from movr.loadgen.server_metrics import sum_retries

CITIES = [
    {"id": "new york", "latitude": 40.7, "longitude": -74.0, "served_here": True},
    {"id": "boston", "latitude": 42.3, "longitude": -71.0, "served_here": True},
    {"id": "paris", "latitude": 48.8, "longitude": 2.3, "served_here": False},
]


def seeded(seed: int) -> random.Random:
    """A reproducible generator (not for secrets)."""
    return random.Random(seed)  # noqa: S311


def test_budget_is_never_exceeded_by_new_actions() -> None:
    control = RunControl(None, 5)
    assert control.take(2)
    assert control.take(2)
    assert not control.take(2)  # only 1 left: a ride (2 requests) does not start
    assert control.stopping()


def test_forced_follow_ups_are_counted_but_never_refused() -> None:
    control = RunControl(None, 3)
    control.force(2)
    assert control.take(1)
    control.force(1)  # e.g. ending one's own ride after the budget is spent
    assert not control.take(1)


def test_deadline_stops_the_run() -> None:
    control = RunControl(0.000001, None)
    assert control.stopping()
    assert not control.take(1)
    with pytest.raises(ValueError, match="duration or a request budget"):
        RunControl(None, None)


def test_fleet_prefers_popular_vehicles() -> None:
    fleet = Fleet(popular=2)
    listing = [("a", "in_use"), ("b", "available"), ("c", "available"), ("d", "available")]
    fleet.observe("boston", listing)
    rng = seeded(7)
    picks = [fleet.pick("boston", rng) for _ in range(1000)]
    # Popular (a, b) half the time whatever their status, else any seen available (b, c, d).
    assert 0.6 < picks.count("a") / 1000 + picks.count("b") / 1000 < 0.75
    assert set(picks) == {"a", "b", "c", "d"}
    assert fleet.pick("paris", rng) is None


def test_fleet_tracks_taken_and_released_vehicles() -> None:
    fleet = Fleet(popular=0)
    fleet.observe("boston", [("a", "available")])
    fleet.taken("boston", "a")
    assert fleet.pick("boston", seeded(1)) is None
    fleet.released("boston", "a")
    assert fleet.pick("boston", seeded(1)) == "a"


def test_cities_default_to_those_served_here() -> None:
    assert [city.id for city in choose_cities(CITIES, ())] == ["new york", "boston"]
    assert [city.id for city in choose_cities(CITIES, ("boston",))] == ["boston"]


@pytest.mark.parametrize(("wanted", "message"), [("paris", "not served"), ("mars", "unknown")])
def test_cities_elsewhere_are_refused(wanted: str, message: str) -> None:
    with pytest.raises(CityError, match=message):
        choose_cities(CITIES, (wanted,))


def test_retries_are_summed_over_labels() -> None:
    page = (
        "# HELP movr_transaction_retries_total Retries.\n"
        "# TYPE movr_transaction_retries_total counter\n"
        'movr_transaction_retries_total{operation="start_ride",region="r"} 3.0\n'
        'movr_transaction_retries_total{operation="end_ride",region="r"} 2\n'
        'movr_transaction_retries_created{operation="end_ride",region="r"} 1.7e9\n'
        "movr_transaction_attempts_total 9\n"
    )
    assert sum_retries(page) == 5


def test_retries_without_samples_are_zero_but_a_foreign_page_is_unknown() -> None:
    assert sum_retries('movr_transaction_attempts_total{operation="x"} 4.0\n') == 0
    assert sum_retries("go_goroutines 12\n") is None
