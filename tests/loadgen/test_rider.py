"""A rider against an in-memory API: it rides, ends every ride once, and keeps the budget."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable

import httpx
import pytest

from movr.loadgen import rider
from movr.loadgen.cities import City
from movr.loadgen.client import ApiClient
from movr.loadgen.config import parse_mix
from movr.loadgen.control import RunControl
from movr.loadgen.fleet import Fleet
from movr.loadgen.ledger import RideLedger
from movr.loadgen.rider import Crew, Identities, Rider
from movr.loadgen.stats import Recorder
from tests.loadgen.fake_api import FakeApi

BOSTON = City("boston", 42.36, -71.06)
PARIS = City("paris", 48.86, 2.35)


def seeded(seed: int) -> random.Random:
    """A reproducible generator (not for secrets)."""
    return random.Random(seed)  # noqa: S311


def ride_with(
    api: Callable[[httpx.Request], httpx.Response],
    max_requests: int,
    mix: str = "ride=1",
    elsewhere: tuple[City, ...] = (),
) -> tuple[Crew, Recorder]:
    recorder, control = Recorder(), RunControl(30, max_requests)
    crew = Crew(
        cities=(BOSTON,),
        mix=parse_mix(mix),
        fleet=Fleet(popular=2),
        ledger=RideLedger(),
        control=control,
        identities=Identities("test"),
        ride_pause=0,
        elsewhere=elsewhere,
    )
    client = ApiClient(
        "http://movr.test", recorder, control, timeout=1, transport=httpx.MockTransport(api)
    )
    Rider(crew, client, seeded(3)).run()
    return crew, recorder


def test_rider_rides_within_its_budget_and_ends_every_ride() -> None:
    api = FakeApi()
    api.add_vehicles("boston", 3)
    crew, recorder = ride_with(api, max_requests=40, mix="ride=8,browse=1,history=1,register=1")

    ledger = crew.ledger.view()
    assert recorder.totals().errors == 0
    assert recorder.totals().requests <= 40
    assert len(ledger.started) >= 5
    assert set(ledger.started) == ledger.ended == {uuid.UUID(ride) for ride in api.ends}
    assert len(api.ends) == len(set(api.ends))
    assert all(v["status"] == "available" for v in api.vehicles.values())
    assert {action for action, _ in recorder.errors()} == set()


def test_lost_end_response_is_retried_with_the_same_key_and_ends_once() -> None:
    api = FakeApi(drop_next_end=True)
    api.add_vehicles("boston", 1)
    crew, recorder = ride_with(api, max_requests=5)

    ledger = crew.ledger.view()
    assert len(ledger.started) == 1
    assert ledger.ended == set(ledger.started)
    assert api.ends == list(map(str, ledger.started))  # the retry was replayed, not redone
    assert recorder.errors() == {("end_ride", "timeout"): 1}


def test_an_empty_city_gets_a_vehicle_added() -> None:
    api = FakeApi()
    crew, recorder = ride_with(api, max_requests=6)
    assert len(api.vehicles) >= 1
    assert len(crew.ledger.view().started) == 1
    assert recorder.totals().errors == 0


def test_a_traveller_lives_in_another_region_rides_here_and_lists_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rider, "TRAVELLER_SHARE", 1.0)
    api, sent = FakeApi(), []
    api.add_vehicles("boston", 2)

    def recording(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return api(request)

    crew, recorder = ride_with(recording, 40, mix="ride=1,add=1,browse=1", elsewhere=(PARIS,))

    homes = [json.loads(r.content)["city"] for r in sent if r.url.path.endswith("/users")]
    browsed = {r.url.params["city"] for r in sent if r.method == "GET" and "city" in r.url.params}
    assert homes == ["paris"]
    assert browsed == {"boston"}  # rides where its entry's region serves it
    assert not [r for r in sent if r.method == "POST" and r.url.path.endswith("/vehicles")]
    assert len(crew.ledger.view().started) >= 2
    assert recorder.totals().errors == 0
