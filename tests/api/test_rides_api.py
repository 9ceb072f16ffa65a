"""Vehicles and rides over the API, idempotency, the OpenAPI document."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from movr.models import Ride, User, Vehicle
from tests.api.conftest import API, ApiClient, token_for
from tests.factories import make_user, make_vehicle

NEW = {"type": "scooter", "color": "mint", "brand": "Unu", "location": "Canal St"}


def ride_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Ride)) or 0


def test_vehicle_lifecycle(api: ApiClient, session: Session) -> None:
    created = api.post("/vehicles", NEW | {"latitude": 40.72, "longitude": -74.0})
    assert created.status_code == 201
    vehicle = created.json
    assert vehicle["is_mine"] is True  # type: ignore[index]
    assert vehicle["city"] == "new york"  # type: ignore[index]
    listed = api.get("/vehicles?limit=5")
    assert [v["id"] for v in listed.json["items"]] == [vehicle["id"]]  # type: ignore[index]
    assert api.delete(f"/vehicles/{vehicle['id']}").status_code == 204  # type: ignore[index]
    assert api.get("/vehicles").json["items"] == []  # type: ignore[index]


def test_vehicle_statuses_are_the_stored_strings(api: ApiClient, session: Session) -> None:
    idle, ridden = (make_vehicle(session, make_user(session)) for _ in range(2))
    assert api.post("/rides", {"vehicle_id": str(ridden.id)}).status_code == 201
    listed = api.get("/vehicles").json["items"]  # type: ignore[index]
    statuses = {item["id"]: item["status"] for item in listed}
    assert statuses == {str(idle.id): "available", str(ridden.id): "in_use"}


def test_half_a_position_is_refused(api: ApiClient) -> None:
    response = api.post("/vehicles", NEW | {"latitude": 40.72})
    assert response.status_code == 422


def test_someone_elses_vehicle_cannot_be_retired(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    response = api.delete(f"/vehicles/{vehicle.id}")
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"  # type: ignore[index]
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"


def test_adding_a_vehicle_away_from_home_names_the_home_region(
    client: FlaskClient, session: Session
) -> None:
    traveller = make_user(session, city="rome")
    response = ApiClient(client, token_for(client, traveller)).post("/vehicles", NEW)
    assert response.status_code == 422
    assert response.json["code"] == "home_region_required"  # type: ignore[index]


def test_ride_journey(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    started = api.post("/rides", {"vehicle_id": str(vehicle.id)})
    assert started.status_code == 201
    ride = started.json
    assert ride["active"] is True  # type: ignore[index]
    assert api.get(f"/rides/{ride['id']}").json["active"] is True  # type: ignore[index]
    ended = api.post(f"/rides/{ride['id']}/end", {"location": "Battery Park"})  # type: ignore[index]
    assert ended.status_code == 200
    assert ended.json["end_location"] == "Battery Park"  # type: ignore[index]
    assert ended.json["length_seconds"] >= 0  # type: ignore[index]
    history = api.get("/rides")
    assert [r["id"] for r in history.json["items"]] == [ride["id"]]  # type: ignore[index]


def test_ride_refusals_have_stable_codes(api: ApiClient, user: User, session: Session) -> None:
    taken = make_vehicle(session, make_user(session))
    other = ApiClient(api.client, token_for(api.client, make_user(session)))
    assert other.post("/rides", {"vehicle_id": str(taken.id)}).status_code == 201
    unavailable = api.post("/rides", {"vehicle_id": str(taken.id)})
    assert (unavailable.status_code, unavailable.json["code"]) == (409, "vehicle_unavailable")  # type: ignore[index]
    mine = api.post("/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)})
    assert mine.status_code == 201
    second = api.post("/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)})
    assert (second.status_code, second.json["code"]) == (409, "already_riding")  # type: ignore[index]
    missing = api.post("/rides", {"vehicle_id": str(uuid.uuid4())})
    assert (missing.status_code, missing.json["code"]) == (404, "not_found")  # type: ignore[index]
    far = make_vehicle(session, make_user(session, city="seattle"))
    elsewhere = other.post("/rides", {"vehicle_id": str(far.id)})
    assert elsewhere.status_code in (409, 422)


def test_rides_of_others_are_not_found(api: ApiClient, session: Session) -> None:
    other = ApiClient(api.client, token_for(api.client, make_user(session)))
    ride = other.post(
        "/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)}
    ).json
    assert api.get(f"/rides/{ride['id']}").status_code == 404  # type: ignore[index]
    ended = api.post(f"/rides/{ride['id']}/end", {"location": "x"})  # type: ignore[index]
    assert ended.status_code == 404
    assert api.get("/rides/not-a-uuid").status_code == 404


def test_ending_twice_is_a_conflict(api: ApiClient, session: Session) -> None:
    ride = api.post(
        "/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)}
    ).json
    assert api.post(f"/rides/{ride['id']}/end", {"location": "a"}).status_code == 200  # type: ignore[index]
    again = api.post(f"/rides/{ride['id']}/end", {"location": "b"})  # type: ignore[index]
    assert (again.status_code, again.json["code"]) == (409, "ride_already_ended")  # type: ignore[index]


def test_start_with_the_same_idempotency_key_replays_and_changes_nothing(
    api: ApiClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    key = {"Idempotency-Key": "start-123"}
    first = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    again = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.get_data() == again.get_data()
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == (
        "false",
        "true",
    )
    assert ride_count(session) == 1


def test_a_refusal_is_replayed_too(api: ApiClient, session: Session) -> None:
    key = {"Idempotency-Key": "missing-vehicle"}
    body = {"vehicle_id": str(uuid.uuid4())}
    first = api.post("/rides", body, headers=key)
    again = api.post("/rides", body, headers=key)
    assert first.status_code == again.status_code == 404
    assert first.get_data() == again.get_data()
    assert again.mimetype == "application/problem+json"


def test_a_refusal_by_a_unique_key_is_stored_and_replayed(api: ApiClient, session: Session) -> None:
    # already_riding comes from active_rides' unique key, which aborts the transaction: the
    # refusal is stored by a transaction of its own, and still answers after the ride ends.
    ride = api.post("/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)})
    second = {"vehicle_id": str(make_vehicle(session, make_user(session)).id)}
    key = {"Idempotency-Key": "second-ride"}
    first = api.post("/rides", second, headers=key)
    assert (first.status_code, first.json["code"]) == (409, "already_riding")  # type: ignore[index]
    assert api.post(f"/rides/{ride.json['id']}/end", {"location": "Dock"}).status_code == 200  # type: ignore[index]
    again = api.post("/rides", second, headers=key)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ride_count(session) == 1


def test_a_replay_rolls_back_the_work_it_repeated(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    key = {"Idempotency-Key": "start-once"}
    first = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert api.post(f"/rides/{first.json['id']}/end", {"location": "Dock"}).status_code == 200  # type: ignore[index]
    # The vehicle is free again, so the repeat really starts a ride before it meets the key:
    # that ride must vanish with the repeat's transaction.
    again = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert (again.status_code, again.get_data()) == (201, first.get_data())
    assert ride_count(session) == 1
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"


def _started_ride(api: ApiClient, session: Session) -> str:
    """The id of a ride the API client just started on a fresh vehicle."""
    started = api.post("/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)})
    return str(started.json["id"])  # type: ignore[index]


def test_end_with_the_same_idempotency_key_replays(api: ApiClient, session: Session) -> None:
    key = {"Idempotency-Key": "end-1"}
    path = f"/rides/{_started_ride(api, session)}/end"
    first = api.post(path, {"location": "Dock"}, headers=key)
    again = api.post(path, {"location": "Dock"}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()


def test_a_repeat_spelled_differently_is_the_same_request(api: ApiClient, session: Session) -> None:
    ride_id = _started_ride(api, session)
    key = {"Idempotency-Key": "end-spelled"}
    body = {"location": "Dock", "latitude": 40.7, "longitude": -74.0}
    first = api.post(f"/rides/{ride_id}/end", body, headers=key)
    respelled = b'{ "longitude" : -74.00, "location":"Dock",\n "latitude": 40.70 }'
    again = api.client.post(
        f"{API}/rides/{ride_id.upper()}/end",
        data=respelled,
        headers=api.headers(key | {"Content-Type": "application/json"}),
    )
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_data() == again.get_data()


def test_the_same_key_with_a_different_body_is_refused(api: ApiClient, session: Session) -> None:
    key = {"Idempotency-Key": "reused"}
    one, two = (make_vehicle(session, make_user(session)) for _ in range(2))
    assert api.post("/rides", {"vehicle_id": str(one.id)}, headers=key).status_code == 201
    reused = api.post("/rides", {"vehicle_id": str(two.id)}, headers=key)
    assert (reused.status_code, reused.json["code"]) == (422, "idempotency_key_reused")  # type: ignore[index]
    assert session.get_one(Vehicle, two.id, populate_existing=True).status == "available"


def test_keys_belong_to_their_user(api: ApiClient, session: Session) -> None:
    other = ApiClient(api.client, token_for(api.client, make_user(session)))
    key = {"Idempotency-Key": "shared-key"}
    assert (
        api.post(
            "/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)}, headers=key
        ).status_code
        == 201
    )
    theirs = other.post(
        "/rides", {"vehicle_id": str(make_vehicle(session, make_user(session)).id)}, headers=key
    )
    assert theirs.status_code == 201
    assert theirs.headers["Idempotent-Replayed"] == "false"


def test_expired_keys_can_be_used_again(api: ApiClient, session: Session) -> None:
    key = {"Idempotency-Key": "old"}
    missing = {"vehicle_id": str(uuid.uuid4())}
    assert api.post("/rides", missing, headers=key).status_code == 404
    session.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"))
    vehicle = make_vehicle(session, make_user(session))
    fresh = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert fresh.status_code == 201
    assert fresh.headers["Idempotent-Replayed"] == "false"


def test_an_expired_key_that_named_a_ride_starts_a_new_one(
    api: ApiClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    key = {"Idempotency-Key": "old-ride"}
    first = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert api.post(f"/rides/{first.json['id']}/end", {"location": "Dock"}).status_code == 200  # type: ignore[index]
    session.execute(text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"))
    again = api.post("/rides", {"vehicle_id": str(vehicle.id)}, headers=key)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "false")
    assert again.json["id"] != first.json["id"]  # type: ignore[index]
    assert ride_count(session) == 2


def test_malformed_idempotency_keys_are_refused(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    response = api.post(
        "/rides", {"vehicle_id": str(vehicle.id)}, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422


def test_pagination_is_bounded_and_cursors_are_checked(api: ApiClient, session: Session) -> None:
    owner = make_user(session)
    for _ in range(7):
        make_vehicle(session, owner)
    first = api.get("/vehicles?limit=5").json
    assert len(first["items"]) == 5  # type: ignore[index]
    rest = api.get(f"/vehicles?limit=5&cursor={first['next_cursor']}").json  # type: ignore[index]
    assert len(rest["items"]) == 2  # type: ignore[index]
    assert rest["next_cursor"] is None  # type: ignore[index]
    assert api.get("/vehicles?limit=1000").status_code == 422
    assert api.get("/vehicles?cursor=abc").status_code == 404


def test_openapi_document_declares_every_operation_and_status(anonymous: ApiClient) -> None:
    spec = anonymous.get("/openapi.json").json
    assert spec["openapi"] == "3.1.0"  # type: ignore[index]
    paths = spec["paths"]  # type: ignore[index]
    assert set(paths["/api/v1/rides"]) == {"get", "post"}
    start = paths["/api/v1/rides"]["post"]
    assert {"201", "401", "404", "409", "422", "500", "503"} <= set(start["responses"])
    assert start["responses"]["409"]["content"]["application/problem+json"]
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])
    registration = spec["components"]["schemas"]["Registration"]  # type: ignore[index]
    assert "rome" in registration["properties"]["city"]["enum"]
    assert anonymous.get("/docs").status_code == 200


def test_api_errors_are_problem_json_everywhere(client: FlaskClient) -> None:
    for response in (client.get(f"{API}/nope"), client.patch(f"{API}/cities")):
        assert response.mimetype == "application/problem+json"
    assert client.patch(f"{API}/cities").headers["Allow"]
    assert client.get(f"{API}/nope").json["code"] == "not_found"  # type: ignore[index]


def test_every_api_response_names_the_region(api: ApiClient) -> None:
    for response in (api.get("/me"), api.get("/nope"), api.client.get("/healthz")):
        assert response.headers["X-MovR-Region"] == "gcp-us-east1"


SYDNEY = {"latitude": -33.87, "longitude": 151.21}


def test_positions_far_from_the_city_are_refused(api: ApiClient, session: Session) -> None:
    far = api.post("/vehicles", NEW | SYDNEY)
    assert far.status_code == 422
    assert "from the centre of New York; choose one within 50 km" in far.get_data(as_text=True)
    ride_id = _started_ride(api, session)
    ended = api.post(f"/rides/{ride_id}/end", {"location": "Opera House"} | SYDNEY)
    assert ended.status_code == 422
    assert ended.json["code"] == "validation_error"  # type: ignore[index]
    assert "from the centre of New York" in ended.get_data(as_text=True)
    nearby = {"location": "Dock", "latitude": 40.75, "longitude": -73.98}
    assert api.post(f"/rides/{ride_id}/end", nearby).status_code == 200  # still active till now
