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
from movr.loadgen.rider import END_ATTEMPTS, Crew, Identities, Rider
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


@pytest.mark.parametrize("lost", [1, 2])
def test_an_end_whose_response_is_lost_is_resent_as_the_same_request_and_ends_once(
    lost: int,
) -> None:
    # The first attempt ends the ride and its response is lost; so is the in-call retry's
    # when lost=2, and the rider tries again on its next turn. Every attempt must be the same
    # request (key AND body): the API replays it, where another body would get 422.
    api = FakeApi(lost_ends=lost)
    api.add_vehicles("boston", 1)
    crew, recorder = ride_with(api, max_requests=4 + lost)

    ledger = crew.ledger.view()
    assert len(ledger.started) == 1
    assert ledger.ended == set(ledger.started)
    assert api.ends == list(map(str, ledger.started))  # the retries were replayed, not redone
    assert recorder.errors() == {("end_ride", "timeout"): lost}


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

    crew, recorder = ride_with(
        recording, 40, mix="ride=1,add=1,retire=1,browse=1", elsewhere=(PARIS,)
    )

    homes = [json.loads(r.content)["city"] for r in sent if r.url.path.endswith("/users")]
    browsed = {r.url.params["city"] for r in sent if r.method == "GET" and "city" in r.url.params}
    assert homes == ["paris"]
    assert browsed == {"boston"}  # rides where its entry's region serves it
    assert not [r for r in sent if r.method == "POST" and r.url.path.endswith("/vehicles")]
    assert len(crew.ledger.view().started) >= 2
    assert recorder.totals().errors == 0


def test_rider_retires_only_vehicles_it_listed_and_records_each() -> None:
    api = FakeApi()
    api.add_vehicles("boston", 2)  # someone else's: never retired by this rider
    crew, recorder = ride_with(api, max_requests=12, mix="retire=1")

    retired = crew.ledger.view().retired
    assert recorder.totals().errors == 0
    assert len(retired) >= 2
    assert set(map(str, retired)) == set(api.retired)
    assert len(api.retired) == len(set(api.retired))  # none twice
    owners = {str(vehicle): str(owner) for vehicle, owner in retired.items()}
    assert all(api.vehicles[vehicle]["owner"] == owner for vehicle, owner in owners.items())


def test_a_rider_keeps_ending_its_ride_while_the_server_asks_it_to_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # More 503s with Retry-After than END_ATTEMPTS: an outage, not a refusal; the ride ends
    # once the server is back instead of being left open.
    monkeypatch.setattr(RunControl, "pause", lambda _self, _seconds: None)  # no back-off wait
    api = FakeApi(unavailable_ends=END_ATTEMPTS + 3)
    api.add_vehicles("boston", 1)
    crew, recorder = ride_with(api, max_requests=20)

    ledger = crew.ledger.view()
    assert len(ledger.started) >= 1
    assert ledger.ended == set(ledger.started)
    assert recorder.errors() == {("end_ride", "503 service_unavailable"): END_ATTEMPTS + 3}
