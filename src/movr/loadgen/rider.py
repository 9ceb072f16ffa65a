"""One simulated rider: joins, then browses, rides, looks at its history, re-registers."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from typing import TypeVar

from movr.loadgen import calls
from movr.loadgen.cities import City
from movr.loadgen.client import ApiClient, Reply
from movr.loadgen.config import Mix
from movr.loadgen.control import RunControl
from movr.loadgen.fleet import Fleet
from movr.loadgen.ledger import RideLedger
from movr.loadgen.outcomes import Kind

T = TypeVar("T")
HOME_SHARE = 0.8  # riders mostly ride where they live
TRAVELLER_SHARE = 0.1  # with several client regions: riders who live in another region
ADD_ON_JOIN = 0.25  # a few new riders list a vehicle, so that the fleet grows with the load
END_ATTEMPTS = 5  # failed tries (no Retry-After) to end one's own ride before leaving it open
MAX_BACK_OFF = 5.0  # seconds; keeps a rider responsive to the end of the run


@dataclasses.dataclass(frozen=True, slots=True)
class Crew:
    """What all riders of a run share."""

    cities: tuple[City, ...]  # where these riders ride (their entry's region serves them)
    mix: Mix
    fleet: Fleet
    ledger: RideLedger
    control: RunControl
    identities: Identities
    ride_pause: float
    elsewhere: tuple[City, ...] = ()  # other client regions' cities: travellers' homes


@dataclasses.dataclass(slots=True)
class _ActiveRide:
    ride_id: uuid.UUID
    city: str
    vehicle_id: str
    # One request for every attempt to end this ride, key AND body: the API replays a repeat
    # only if it is the same request (another body under the key is refused with 422).
    end_body: dict[str, object]
    end_key: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    failed_ends: int = 0


class Identities:
    """Usernames unique to this run (run tag + serial), so reruns never collide."""

    def __init__(self, run_tag: str) -> None:
        """Number identities from 1 under `run_tag` (a few letters and digits)."""
        self.run_tag = run_tag
        self._serial = 0
        self._lock = threading.Lock()

    def next_username(self) -> str:
        """A fresh username such as `load-3f9a1c2b-17`."""
        with self._lock:
            self._serial += 1
            return f"load-{self.run_tag}-{self._serial}"

    @property
    def password(self) -> str:
        """One password for every rider of the run (hashing cost is the server's, not ours)."""
        return f"load-{self.run_tag}-secret"


class Rider:
    """A simulated person with its own connection and bearer token."""

    def __init__(self, crew: Crew, api: ApiClient, rng: random.Random) -> None:
        """A rider that has not joined yet."""
        self._crew = crew
        self._api = api
        self._rng = rng
        self._home: City = rng.choice(crew.cities)
        self._user_id: uuid.UUID | None = None
        self._owned: list[tuple[str, str]] = []  # (city, vehicle id) this identity listed
        self._active: _ActiveRide | None = None
        self._failures = 0  # consecutive errors or 429s, for backing off a sick server
        self._retry_after: float | None = None
        self._bounds = tuple(zip(crew.mix.actions, crew.mix.cumulative, strict=True))

    def run(self) -> None:
        """Act until the run stops, then end any ride still open."""
        control = self._crew.control
        try:
            while not control.stopping():
                if self._active is not None:
                    control.force(1)
                    self._end_ride()
                elif self._user_id is None:
                    if not control.take(2):
                        break
                    self._join()
                else:
                    self._act(self._choose())
                self._back_off()
            if self._active is not None:  # the end of our own ride failed earlier: try again
                control.force(1)
                self._end_ride()
        finally:
            self._api.close()

    def _choose(self) -> str:
        point = self._rng.randrange(self._bounds[-1][1])
        for action, bound in self._bounds:
            if point < bound:
                return action
        raise AssertionError("unreachable")  # pragma: no cover

    def _act(self, action: str) -> None:
        control = self._crew.control
        if action == "ride":
            self._ride()
        elif action == "browse" and control.take(1):
            self._browse(self._ride_city())
        elif action == "history" and control.take(1):
            self._history()
        elif action == "register" and control.take(2):
            self._join()
        elif action in ("add", "retire") and self._travelling():
            return  # a visitor's vehicles are listed and retired at home, not here
        elif action == "add" and control.take(1):
            self._add_vehicle()
        elif action == "retire" and control.take(1):
            self._retire_vehicle()

    # Actions

    def _join(self) -> None:
        """Register a new identity and get its token; the rider becomes that person."""
        username = self._crew.identities.next_username()
        crew = self._crew
        travels = crew.elsewhere and self._rng.random() < TRAVELLER_SHARE
        self._home = self._rng.choice(crew.elsewhere if travels else crew.cities)
        self._api.token, self._user_id, self._owned = None, None, []
        password = crew.identities.password
        if not self._note(calls.register(self._api, self._home, username, password)).ok:
            return
        token = self._note(calls.issue_token(self._api, username, password))
        if token.value is None:
            return
        self._api.token, self._user_id = token.value
        if self._rng.random() < ADD_ON_JOIN and self._crew.control.take(1):
            self._add_vehicle()

    def _browse(self, city: City) -> None:
        reply = self._note(calls.browse(self._api, city))
        if reply.value is not None:
            self._crew.fleet.observe(city.id, reply.value)

    def _history(self) -> None:
        self._note(calls.history(self._api))

    def _add_vehicle(self) -> str | None:
        """List a vehicle in the home city; the new id, or None if refused or failed."""
        reply = self._note(calls.add_vehicle(self._api, self._rng, self._home))
        if reply.value is not None:
            self._crew.fleet.released(self._home.id, reply.value)
            self._owned.append((self._home.id, reply.value))
        return reply.value

    def _retire_vehicle(self) -> None:
        """Retire a vehicle of ours; one who owns none lists one instead (the fleet keeps its
        size, and there is something to retire next time)."""
        if not self._owned or self._user_id is None:
            self._add_vehicle()
            return
        city, vehicle = self._owned[self._rng.randrange(len(self._owned))]
        reply = self._note(calls.retire_vehicle(self._api, vehicle))
        if reply.ok:
            self._crew.ledger.retired(uuid.UUID(vehicle), self._user_id)
            self._crew.fleet.retired(city, vehicle)
            self._owned.remove((city, vehicle))

    def _ride(self) -> None:
        """Pick a vehicle (listing or adding one if none is known), start, pause, end."""
        control, fleet = self._crew.control, self._crew.fleet
        city = self._ride_city()
        vehicle = fleet.pick(city.id, self._rng)
        if vehicle is None:
            if not control.take(1):
                return
            self._browse(city)
            vehicle = fleet.pick(city.id, self._rng)
        if vehicle is None and city == self._home:
            # Nothing free where we live: add one, as the owners of a real fleet would.
            if not control.take(1):
                return
            vehicle = self._add_vehicle()
        if vehicle is None or not control.take(2):
            return
        reply = self._note(calls.start_ride(self._api, vehicle))
        if reply.value is not None and self._user_id is not None:
            self._crew.ledger.started(reply.value, self._user_id)
            fleet.taken(city.id, vehicle)
            self._active = self._open(reply.value, city.id, vehicle)
            # The ride itself; short, so that vehicles change hands often.
            time.sleep(self._rng.uniform(0, self._crew.ride_pause))
            self._end_ride()
        elif reply.code == "vehicle_unavailable":
            fleet.taken(city.id, vehicle)
        elif reply.code == "already_riding":
            control.force(1)
            self._find_open_ride()

    def _open(self, ride_id: uuid.UUID, city_id: str, vehicle: str) -> _ActiveRide:
        """An active ride, with where it will end (somewhere near its city centre)."""
        city = next((c for c in self._crew.cities if c.id == city_id), self._home)
        return _ActiveRide(ride_id, city_id, vehicle, calls.end_location(self._rng, city))

    def _end_ride(self) -> None:
        """End our active ride (every attempt sends the same request)."""
        active = self._active
        if active is None:
            return
        reply = self._note(
            calls.end_ride(self._api, active.ride_id, active.end_key, active.end_body)
        )
        if reply.ok:
            self._crew.ledger.ended(active.ride_id)
            self._crew.fleet.released(active.city, active.vehicle_id)
            self._active = None
            return
        if reply.retry_after is not None:
            # The server asked us to come back (an outage's 503, a 429): a rider keeps trying
            # to end its ride until the run ends, instead of leaving it open after a few tries.
            return
        active.failed_ends += 1
        definite = reply.status is not None and reply.status < 500 and reply.code != calls.IN_FLIGHT
        if definite or active.failed_ends >= END_ATTEMPTS:
            # A 4xx will not change on retry; the invariant check will judge what is left.
            self._active = None

    def _find_open_ride(self) -> None:
        """The server says we ride although we think not: find that ride so we can end it."""
        reply = self._note(calls.open_ride(self._api))
        if reply.value is not None:
            self._active = self._open(*reply.value)

    # Helpers

    def _note(self, reply: Reply[T]) -> Reply[T]:
        failed = reply.kind in (Kind.ERROR, Kind.RATE_LIMITED)
        self._failures = self._failures + 1 if failed else 0
        self._retry_after = reply.retry_after if failed else None
        return reply

    def _back_off(self) -> None:
        if self._failures:
            # A failing or throttling server gets breathing room instead of a tight loop,
            # at least as much as it asked for with Retry-After.
            delay = max(min(0.05 * 2**self._failures, 2.0), self._retry_after or 0.0)
            self._crew.control.pause(min(delay, MAX_BACK_OFF))

    def _travelling(self) -> bool:
        """Whether home is in another region: a visitor rides here but lists vehicles at home."""
        return self._home not in self._crew.cities

    def _ride_city(self) -> City:
        cities = self._crew.cities
        if self._travelling():
            return self._rng.choice(cities)
        if len(cities) == 1 or self._rng.random() < HOME_SHARE:
            return self._home
        return self._rng.choice(cities)
