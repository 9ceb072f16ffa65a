"""Ride actions check their bearer token inside the ride statement: the same answers as a
lookup first would give (401 before anything else the request got wrong)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from movr.models import Vehicle
from tests.api.conftest import API, ApiClient
from tests.factories import make_user, make_vehicle


def vehicle_status(session: Session, vehicle: Vehicle) -> str:
    return session.get_one(Vehicle, vehicle.id, populate_existing=True).status


def assert_challenged(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    assert response.json["code"] == "unauthorized"  # type: ignore[attr-defined]


def test_an_unknown_token_starts_nothing_even_with_a_bad_request(
    client: FlaskClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    stranger = ApiClient(client, "movr_no-such-token")
    for body, headers in (
        ({"vehicle_id": str(vehicle.id)}, {}),
        ({"vehicle_id": str(vehicle.id)}, {"Idempotency-Key": "k"}),
        ({"vehicle_id": "not-a-uuid"}, {}),  # a bad body: still 401 first
        ({"vehicle_id": str(vehicle.id)}, {"Idempotency-Key": "bad key"}),  # a bad key too
    ):
        assert_challenged(stranger.post("/rides", body, headers=headers))
    assert_challenged(stranger.post(f"/rides/{vehicle.id}/end", {"location": ""}))
    not_json = {"Authorization": "Bearer movr_no-such-token", "Content-Type": "text/plain"}
    assert_challenged(client.post(f"{API}/rides", data="x", headers=not_json))  # not 415
    assert vehicle_status(session, vehicle) == "available"


def test_a_revoked_token_cannot_end_its_ride(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    ride = api.post("/rides", {"vehicle_id": str(vehicle.id)}).json
    session.execute(text("UPDATE api_tokens SET revoked_at = now()"))
    for headers in ({}, {"Idempotency-Key": "end"}):
        response = api.post(f"/rides/{ride['id']}/end", {"location": "Pier"}, headers=headers)  # type: ignore[index]
        assert_challenged(response)
    assert vehicle_status(session, vehicle) == "in_use"


def test_an_expired_token_cannot_start_a_ride(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    session.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second'"))
    assert_challenged(api.post("/rides", {"vehicle_id": str(vehicle.id)}))
    assert vehicle_status(session, vehicle) == "available"


def test_a_valid_token_with_a_bad_request_gets_the_validation_error(api: ApiClient) -> None:
    response = api.post("/rides", {"vehicle_id": "not-a-uuid"})
    assert (response.status_code, response.json["code"]) == (422, "validation_error")  # type: ignore[index]
