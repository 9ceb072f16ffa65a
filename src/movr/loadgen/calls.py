"""The API calls behind a rider's actions: what each sends, may be refused, and reads back."""

from __future__ import annotations

import random
import uuid
from typing import Any

from movr.loadgen.cities import City
from movr.loadgen.client import (
    ME,
    PAGE,
    RIDE,
    TOKEN,
    VEHICLE,
    ApiClient,
    Reply,
    Shape,
    ignore,
)

# Refusals each call can meet when riders contend; anything else is unexpected.
# `idempotency_key_in_flight` only answers our own retry while the first attempt still runs.
IN_FLIGHT = "idempotency_key_in_flight"
# `not_found`: the riders' picture of the fleet is shared and stale, so a vehicle its owner
# retired a moment ago is still tried.
START_REFUSALS = frozenset({"vehicle_unavailable", "already_riding", "not_found", IN_FLIGHT})
END_REFUSALS = frozenset({IN_FLIGHT})
ADD_REFUSALS = frozenset({"home_region_required"})
RETIRE_REFUSALS = frozenset({"vehicle_in_use"})  # someone rides it: retire it later
BROWSE_LIMIT = 25
HISTORY_LIMIT = 10
STREETS = ("Main St", "Market St", "Park Ave", "Station Sq", "River Rd", "Harbor Way", "Elm St")
BRANDS = ("Acme", "Lime", "Bird", "Segway", "Spin")
COLORS = ("red", "blue", "green", "black", "white", "orange")
TYPES = ("bike", "scooter", "skateboard")


def register(api: ApiClient, home: City, username: str, password: str) -> Reply[None]:
    """Create the account `username`, living in `home`."""
    return api.call(
        "register",
        "POST",
        "/users",
        success=201,
        parse=ignore,
        shape=Shape(ME),
        json={
            "city": home.id,
            "first_name": "Load",
            "last_name": f"Rider {username}",
            "email": f"{username}@load.example",
            "username": username,
            "password": password,
        },
    )


def issue_token(api: ApiClient, username: str, password: str) -> Reply[tuple[str, uuid.UUID]]:
    """Log in for a bearer token; the value is (token, user id)."""
    return api.call(
        "token",
        "POST",
        "/auth/token",
        success=201,
        parse=_token,
        shape=Shape(TOKEN),
        json={"username": username, "password": password},
    )


def browse(api: ApiClient, city: City) -> Reply[list[tuple[str, str]]]:
    """The first page of `city`'s vehicles, as (vehicle id, status)."""
    return api.call(
        "browse",
        "GET",
        "/vehicles",
        success=200,
        parse=_vehicles,
        shape=Shape(PAGE, VEHICLE),
        params={"city": city.id, "limit": BROWSE_LIMIT},
    )


def history(api: ApiClient) -> Reply[None]:
    """The first page of our own rides."""
    return api.call(
        "history",
        "GET",
        "/rides",
        success=200,
        parse=ignore,
        shape=Shape(PAGE, RIDE),
        params={"limit": HISTORY_LIMIT},
    )


def add_vehicle(api: ApiClient, rng: random.Random, city: City) -> Reply[str]:
    """List a random vehicle somewhere in `city`; the value is its id."""
    latitude, longitude = _near(rng, city)
    return api.call(
        "add_vehicle",
        "POST",
        "/vehicles",
        success=201,
        parse=_id_text,
        expected=ADD_REFUSALS,
        shape=Shape(VEHICLE),
        json={
            "type": rng.choice(TYPES),
            "color": rng.choice(COLORS),
            "brand": rng.choice(BRANDS),
            "location": _street(rng),
            "latitude": latitude,
            "longitude": longitude,
        },
    )


def retire_vehicle(api: ApiClient, vehicle: str) -> Reply[None]:
    """Retire one of our vehicles."""
    return api.call(
        "retire_vehicle",
        "DELETE",
        f"/vehicles/{vehicle}",
        success=204,
        parse=ignore,
        expected=RETIRE_REFUSALS,
    )


def start_ride(api: ApiClient, vehicle: str) -> Reply[uuid.UUID]:
    """Start a ride on `vehicle` (under a fresh idempotency key); the value is the ride id."""
    return api.call(
        "start_ride",
        "POST",
        "/rides",
        success=201,
        parse=_ride_id,
        expected=START_REFUSALS,
        shape=Shape(RIDE),
        json={"vehicle_id": vehicle},
        idempotency_key=str(uuid.uuid4()),
    )


def end_location(rng: random.Random, city: City) -> dict[str, object]:
    """The body ending a ride: an address somewhere near `city`'s centre."""
    latitude, longitude = _near(rng, city)
    return {"location": _street(rng), "latitude": latitude, "longitude": longitude}


def end_ride(api: ApiClient, ride_id: uuid.UUID, key: str, body: dict[str, object]) -> Reply[None]:
    """End `ride_id`; every attempt at one ride must send the same `key` and `body`."""
    return api.call(
        "end_ride",
        "POST",
        f"/rides/{ride_id}/end",
        success=200,
        parse=ignore,
        expected=END_REFUSALS,
        shape=Shape(RIDE),
        idempotency_key=key,
        json=body,
    )


def open_ride(api: ApiClient) -> Reply[tuple[uuid.UUID, str, str] | None]:
    """Our latest ride if it is still active, as (ride id, city, vehicle id)."""
    return api.call(
        "history",
        "GET",
        "/rides",
        success=200,
        parse=_open_ride,
        shape=Shape(PAGE, RIDE),
        params={"limit": 1},
    )


def _near(rng: random.Random, city: City) -> tuple[float, float]:
    return (
        round(city.latitude + rng.uniform(-0.02, 0.02), 6),
        round(city.longitude + rng.uniform(-0.02, 0.02), 6),
    )


def _street(rng: random.Random) -> str:
    return f"{rng.randint(1, 250)} {rng.choice(STREETS)}"


# Parsers: what the rider needs from each success body (a failure is a protocol error).


def _token(body: dict[str, Any]) -> tuple[str, uuid.UUID]:
    return str(body["token"]), uuid.UUID(str(body["user"]["id"]))


def _vehicles(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(uuid.UUID(str(v["id"]))), str(v["status"])) for v in body["items"]]


def _id_text(body: dict[str, Any]) -> str:
    return str(uuid.UUID(str(body["id"])))


def _ride_id(body: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(body["id"]))


def _open_ride(body: dict[str, Any]) -> tuple[uuid.UUID, str, str] | None:
    items = body["items"]
    if not items or not items[0]["active"]:
        return None
    ride = items[0]
    return uuid.UUID(str(ride["id"])), str(ride["city"]), str(ride["vehicle_id"])
