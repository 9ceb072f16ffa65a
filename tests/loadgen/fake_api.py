"""An in-memory stand-in for the MovR JSON API, for testing riders without a server."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from movr.loadgen.client import ME, RIDE, VEHICLE


def problem(status: int, code: str) -> httpx.Response:
    body = {"type": f"urn:movr:problem:{code}", "title": code, "status": status, "code": code}
    return httpx.Response(
        status, content=json.dumps(body), headers={"Content-Type": "application/problem+json"}
    )


@dataclass
class FakeApi:
    """Users, vehicles and rides in dictionaries; idempotent start and end like the real API."""

    vehicles: dict[str, dict[str, Any]] = field(default_factory=dict)
    rides: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # username -> id
    tokens: dict[str, str] = field(default_factory=dict)  # token -> user id
    replies: dict[tuple[str, str], httpx.Response] = field(default_factory=dict)
    bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)  # what each key answered
    ends: list[str] = field(default_factory=list)  # ride ids, once per real end
    lost_ends: int = 0  # lose the responses of this many end requests (the first one ends it)
    unavailable_ends: int = 0  # answer this many end requests 503 with Retry-After, doing nothing
    retired: list[str] = field(default_factory=list)  # vehicle ids, once per real retirement
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_vehicles(self, city: str, count: int) -> None:
        for _ in range(count):
            vehicle_id = str(uuid.uuid4())
            vehicle = dict.fromkeys(VEHICLE) | {"id": vehicle_id, "city": city}
            self.vehicles[vehicle_id] = vehicle | {"status": "available"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else {}
        if (request.method, path) == ("POST", "/users"):
            self.users[body["username"]] = str(uuid.uuid4())
            return httpx.Response(
                201, json=dict.fromkeys(ME) | {"id": self.users[body["username"]]}
            )
        if (request.method, path) == ("POST", "/auth/token"):
            user_id = self.users[body["username"]]
            token = str(uuid.uuid4())
            self.tokens[token] = user_id
            me = dict.fromkeys(ME) | {"id": user_id}
            out = {"token": token, "token_type": "Bearer", "expires_at": "x", "user": me}
            return httpx.Response(201, json=out)
        user = self.tokens[request.headers["Authorization"].removeprefix("Bearer ")]
        if path.startswith("/vehicles"):
            return self._vehicles(request, user, path)
        if (request.method, path) == ("GET", "/rides"):
            mine = [r for r in self.rides.values() if r["rider"] == user]
            return httpx.Response(200, json={"items": mine[::-1], "next_cursor": None})
        return self._keyed(request, user, path, body)

    def _keyed(
        self, request: httpx.Request, user: str, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        """A ride start or end, replayed by its Idempotency-Key as the real API does."""
        if path.endswith("/end") and self.unavailable_ends > 0:
            self.unavailable_ends -= 1
            response = problem(503, "service_unavailable")
            response.headers["Retry-After"] = "0"
            return response
        key = (user, request.headers["Idempotency-Key"])
        fingerprint = request.method.encode() + path.encode() + request.content
        if key not in self.replies:
            self.replies[key] = self._ride_action(user, path, body)
            self.bodies[key] = fingerprint
        elif self.bodies[key] != fingerprint:
            # As the real API: a key reused for a different request is refused.
            return problem(422, "idempotency_key_reused")
        if path.endswith("/end") and self.lost_ends > 0:
            self.lost_ends -= 1
            raise httpx.ReadTimeout("response lost", request=request)
        return self.replies[key]

    def _vehicles(self, request: httpx.Request, user: str, path: str) -> httpx.Response:
        if request.method == "GET":
            city = request.url.params["city"]
            items = [v for v in self.vehicles.values() if v["city"] == city]
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        if request.method == "POST":
            self.add_vehicles("boston", 1)
            added = list(self.vehicles.values())[-1]
            added["owner"] = user
            return httpx.Response(201, json=added)
        return self._retire(user, path.removeprefix("/vehicles/"))

    def _retire(self, user: str, vehicle_id: str) -> httpx.Response:
        vehicle = self.vehicles.get(vehicle_id)
        if vehicle is None or vehicle["status"] == "removed" or vehicle.get("owner") != user:
            return problem(404, "not_found")
        if vehicle["status"] != "available":
            return problem(409, "vehicle_in_use")
        vehicle["status"] = "removed"
        self.retired.append(vehicle_id)
        return httpx.Response(204)

    def _ride_action(self, user: str, path: str, body: dict[str, Any]) -> httpx.Response:
        if path == "/rides":
            vehicle = self.vehicles[body["vehicle_id"]]
            if vehicle["status"] != "available":
                return problem(409, "vehicle_unavailable")
            vehicle["status"] = "in_use"
            ride_id = str(uuid.uuid4())
            ride = dict.fromkeys(RIDE) | {
                "id": ride_id,
                "rider": user,
                "city": vehicle["city"],
                "vehicle_id": vehicle["id"],
                "active": True,
            }
            self.rides[ride_id] = ride
            return httpx.Response(201, json=ride)
        ride = self.rides[path.split("/")[2]]
        if not ride["active"]:
            return problem(409, "ride_already_ended")
        ride["active"] = False
        self.vehicles[ride["vehicle_id"]]["status"] = "available"
        self.ends.append(ride["id"])
        return httpx.Response(200, json=ride)
