"""Failure drills against a running `movr global`: each fails one part, watches the service from
the clients' side, restores it, and prints a timeline and a verdict.

The drills probe over HTTP only, through the entries the clients use (and the apps' /readyz);
they fail and restore parts through the supervisor's control API. Run `movr load` beside them
to see the same failure under load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from movr.seeding import DEMO_PASSWORD, demo_username
from movr.simulation.control import request
from movr.simulation.timeline import Echo, Timeline, Verdict, announce
from movr.web.consistency import HEADER
from movr.web.security import REGION_HEADER

API = "/api/v1"
PROBE_EVERY = 0.1
FAILOVER_BOUND = 3.0  # seconds: region-down's target
SETUP_ATTEMPTS = 5
READ_ONLY = "MovR is read-only for a moment"  # the pages' banner while the primary is away


@dataclass
class Probe(Timeline):
    """Requests made during a drill, with the time each was made (seconds from the start)."""

    answers: list[tuple[float, int, str]] = field(
        default_factory=list
    )  # answered at, status, region

    def call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Make a request and remember when its answer came and what it was (transport errors
        count as status 0)."""
        try:
            response = client.request(method, url, timeout=10, **kwargs)
        except httpx.TransportError as error:
            self.answers.append((self.now(), 0, ""))
            self.note(f"{method} {url} failed: {type(error).__name__}")
            return httpx.Response(0)
        at = self.now()
        self.answers.append((at, response.status_code, response.headers.get(REGION_HEADER, "")))
        if response.status_code >= 500:
            self.note(f"{method} {url} answered {response.status_code}")
        return response

    def failed(self, since: float = 0.0, allowed: frozenset[int] = frozenset()) -> int:
        """Answers since `since` that were neither 2xx nor one of `allowed`."""
        return sum(
            1 for t, s, _ in self.answers if t >= since and not (200 <= s < 300 or s in allowed)
        )


def region_down(endpoints: dict[str, Any], region: str | None, echo: Echo) -> Verdict:
    """Stop one region's app: its clients are served by the next nearest region (their own
    cities included: it stands in for their region), then come back when it is restored."""
    region = region or list(endpoints["apps"])[-1]
    entry, probe = endpoints["entries"][region], Probe(echo)
    echo(f"region-down: stopping the app of {region}; probing its clients' entry {entry}")
    with httpx.Client() as client:
        auth = _token(client, endpoints, region, probe)
        vehicle = _available_vehicle(client, entry, auth)
        listing = f"{entry}{API}/vehicles"  # the rider's home city, in the stopped region
        _until(probe, client, listing, lambda r: _served(r, region), 10, headers=auth)
        stopped_at = probe.now()
        # Stopping waits for the app's graceful exit: probe meanwhile, as clients would.
        stopping = _in_background(request, endpoints["drill_control"], f"/apps/{region}/stop")
        probe.note(f"stopping the app of {region}")
        other = _until(probe, client, listing, lambda r: _served_else(r, region), 30, headers=auth)
        failover = (other or stopped_at) - stopped_at
        probe.note(f"its clients are served by another region after {failover:.2f} s")
        ridden = _ride(probe, client, entry, auth, vehicle)
        stopping.join()
        probe.note(f"app of {region} stopped")
        _for(probe, client, listing, seconds=2, headers=auth)
        request(endpoints["drill_control"], f"/apps/{region}/start")
        probe.note(f"app of {region} restarted")
        back = _until(probe, client, listing, lambda r: _served(r, region), 90, headers=auth)
        probe.note(f"its clients are served by {region} again" if back else "no failback")
    errors, total = probe.failed(stopped_at), len(probe.answers)
    passed = other is not None and failover <= FAILOVER_BOUND and back is not None
    passed = passed and ridden is not None and errors <= max(1, total // 100)
    return announce(echo, passed, failover_s=round(failover, 2), errors=errors, requests=total)


def replica_down(endpoints: dict[str, Any], region: str | None, echo: Echo) -> Verdict:
    """Stop one region's standby: its reads go to the primary, then back once it resyncs."""
    region = region or list(endpoints["apps"])[-1]
    app, probe = endpoints["apps"][region], Probe(echo)
    echo(f"replica-down: stopping the standby of {region}")
    with httpx.Client() as client:
        auth = _token(client, endpoints, region, probe)
        listing = f"{endpoints['entries'][region]}{API}/vehicles"
        request(endpoints["drill_control"], f"/standbys/{region}/stop")
        probe.note(f"standby of {region} stopped")
        down = _until(probe, client, f"{app}/readyz", lambda r: _replica_state(r) == "down", 10)
        probe.note(f"{region} reads the primary (readyz: replica down)" if down else "not seen")
        _for(probe, client, listing, seconds=2, headers=auth)
        request(endpoints["drill_control"], f"/standbys/{region}/start")
        probe.note(f"standby of {region} restarted")
        ok = _until(probe, client, f"{app}/readyz", lambda r: _replica_state(r) == "ok", 60)
        probe.note("the standby serves reads again" if ok else "the standby did not come back")
        _for(probe, client, listing, seconds=1, headers=auth)
    errors = probe.failed()
    return announce(echo, errors == 0 and down is not None and ok is not None, errors=errors)


def primary_down(endpoints: dict[str, Any], region: str | None, echo: Echo) -> Verdict:
    """Stop the primary: reads keep answering, writes get 503 with Retry-After; after the
    restart writes resume and no acknowledged ride is lost."""
    region = region or list(endpoints["apps"])[-1]
    entry, probe = endpoints["entries"][region], Probe(echo)
    echo(f"primary-down: stopping the primary; reading and writing through {entry}")
    with httpx.Client() as client:
        auth = _token(client, endpoints, region, probe)
        vehicle = _available_vehicle(client, entry, auth)
        acknowledged = _ride(probe, client, entry, auth, vehicle)
        request(endpoints["drill_control"], "/primary/stop")
        stopped_at = probe.now()
        probe.note("primary stopped")
        says = _until(probe, client, f"{entry}/login", lambda r: READ_ONLY in r.text, 10)
        probe.note("the pages say MovR is read-only" if says else "the pages never said so")
        _for(probe, client, f"{entry}{API}/vehicles", seconds=2, headers=auth)
        write = probe.call(client, "POST", f"{entry}{API}/rides", json={"vehicle_id": vehicle},
                           headers=auth)  # fmt: skip
        refused_well = write.status_code == 503 and "Retry-After" in write.headers
        probe.note(f"a write answered {write.status_code} (Retry-After: "
                   f"{write.headers.get('Retry-After')})")  # fmt: skip
        request(endpoints["drill_control"], "/primary/start")
        probe.note("primary restarted")
        again = _ride(probe, client, entry, auth, vehicle, wait=60)
        kept = (
            acknowledged is not None
            and probe.call(
                client, "GET", f"{entry}{API}/rides/{acknowledged}", headers=auth
            ).status_code
            == 200
        )
        probe.note("writes resume; the ride acknowledged before the stop is there" if kept else
                   "a ride acknowledged before the stop is missing")  # fmt: skip
    reads_failed = probe.failed(stopped_at, allowed=frozenset({503}))
    passed = refused_well and again is not None and kept and reads_failed == 0 and says is not None
    return announce(echo, passed, unexpected_errors=reads_failed, lost_rides=0 if kept else 1)


def partition(endpoints: dict[str, Any], region: str | None, echo: Echo) -> Verdict:
    """Cut one region off the primary (its app's and its standby's hops): it keeps reading
    (stale), its writes get 503; after healing its writes resume."""
    regions = list(endpoints["apps"])
    region = region or regions[-1]
    primary = regions[0]
    entry, probe = endpoints["entries"][region], Probe(echo)
    hops = [f"app:{region}->db:{primary}", f"standby:{region}->db:{primary}"]
    echo(f"partition: cutting {region} off the primary ({', '.join(hops)})")
    with httpx.Client() as client:
        auth = _token(client, endpoints, region, probe)
        vehicle = _available_vehicle(client, entry, auth)
        for hop in hops:
            request(endpoints["drill_control"], f"/hops/{hop}/cut")
        cut_at = probe.now()
        probe.note(f"{region} cut off")
        _for(probe, client, f"{entry}{API}/vehicles", seconds=2, headers=auth)
        write = probe.call(client, "POST", f"{entry}{API}/rides", json={"vehicle_id": vehicle},
                           headers=auth)  # fmt: skip
        probe.note(f"a write from {region} answered {write.status_code}")
        for hop in hops:
            request(endpoints["drill_control"], f"/hops/{hop}/restore")
        probe.note("healed")
        again = _ride(probe, client, entry, auth, vehicle, wait=30)
    reads_failed = probe.failed(cut_at, allowed=frozenset({503}))
    passed = write.status_code == 503 and again is not None and reads_failed == 0
    return announce(echo, passed, unexpected_errors=reads_failed)


DRILLS: dict[str, Callable[[dict[str, Any], str | None, Echo], Verdict]] = {
    "region-down": region_down,
    "replica-down": replica_down,
    "primary-down": primary_down,
    "partition": partition,
}


def _in_background(function: Callable[..., object], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=function, args=args, daemon=True)
    thread.start()
    return thread


def _served(response: httpx.Response, region: str) -> bool:
    return response.status_code == 200 and response.headers.get(REGION_HEADER) == region


def _served_else(response: httpx.Response, region: str) -> bool:
    return response.status_code == 200 and response.headers.get(REGION_HEADER) != region


def _replica_state(response: httpx.Response) -> str | None:
    try:
        state: str = response.json()["replica"]["state"]
    except (ValueError, KeyError, TypeError):
        return None
    return state


def _until(
    probe: Probe,
    client: httpx.Client,
    url: str,
    done: Callable[[httpx.Response], bool],
    timeout: float,
    **kwargs: Any,
) -> float | None:
    """Probe `url` until `done`; the time it first was (None on time-out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(probe.call(client, "GET", url, **kwargs)):
            return probe.answers[-1][0]
        time.sleep(PROBE_EVERY)
    return None


def _for(probe: Probe, client: httpx.Client, url: str, seconds: float, **kwargs: Any) -> None:
    """Probe `url` for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probe.call(client, "GET", url, **kwargs)
        time.sleep(PROBE_EVERY)


def _token(
    client: httpx.Client, endpoints: dict[str, Any], region: str, probe: Probe
) -> dict[str, str]:
    """A bearer token of the demo rider of `region`'s first city (read-your-writes header too)."""
    city = _first_city(endpoints, region)
    body = {"username": demo_username(city), "password": DEMO_PASSWORD}
    url = f"{endpoints['entries'][region]}{API}/auth/token"
    for _ in range(SETUP_ATTEMPTS):
        issued = probe.call(client, "POST", url, json=body)
        probe.answers.pop()  # set-up, not part of the drill's figures
        if issued.status_code != 503:
            break
        # A worker whose pooled connection died in an earlier drill answers 503 once (MovR
        # pings no connection before use): retry, as any client would.
        time.sleep(float(issued.headers.get("Retry-After", "1")))
    if issued.status_code != 201:
        raise RuntimeError(f"cannot log in as {body['username']}: {issued.status_code}")
    # The header makes the standby's reads wait for the token's own write (read-your-writes).
    return {"Authorization": f"Bearer {issued.json()['token']}", HEADER: issued.headers[HEADER]}


def _first_city(endpoints: dict[str, Any], region: str) -> str:
    listed = httpx.get(f"{endpoints['entries'][region]}{API}/cities", timeout=10).json()
    return str(next(c["id"] for c in listed["items"] if c["region"] == region))


def _available_vehicle(client: httpx.Client, entry: str, auth: dict[str, str]) -> str:
    listed = client.get(f"{entry}{API}/vehicles", headers=auth, timeout=10).json()
    return str(next(v["id"] for v in listed["items"] if v["status"] == "available"))


def _ride(
    probe: Probe,
    client: httpx.Client,
    entry: str,
    auth: dict[str, str],
    vehicle: str,
    *,
    wait: float = 0,
) -> str | None:
    """Start and end a ride on `vehicle` (retrying for up to `wait` s); the ride's id."""
    deadline = time.monotonic() + wait
    while True:
        started = probe.call(client, "POST", f"{entry}{API}/rides", json={"vehicle_id": vehicle},
                             headers=auth)  # fmt: skip
        if started.status_code == 201:
            ride: str = started.json()["id"]
            probe.call(client, "POST", f"{entry}{API}/rides/{ride}/end",
                       json={"location": "Drill"}, headers=auth)  # fmt: skip
            probe.note(f"ride {ride[:8]} started and ended")
            return ride
        if time.monotonic() >= deadline:
            probe.note(f"a ride could not start: {started.status_code} {started.text[:200]}")
            return None
        time.sleep(0.5)
