"""Cities, registration, tokens, me, users of a city."""

from __future__ import annotations

import dataclasses
import io
import json

from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.models import ApiToken, User
from movr.web.app import create_app
from tests.api.conftest import API, ApiClient, token_for
from tests.factories import make_user, make_vehicle
from tests.web.conftest import csrf_token, log_in

REGISTRATION = {
    "city": "boston",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "username": "ada_api",
    "password": "analytical engine",
}


def test_cities_list_the_map_and_what_this_region_serves(anonymous: ApiClient) -> None:
    response = anonymous.get("/cities")
    assert response.status_code == 200
    assert response.headers["X-MovR-Region"] == "gcp-us-east1"
    cities = {c["id"]: c for c in response.json["items"]}  # type: ignore[index]
    assert len(cities) == 9
    assert cities["boston"]["served_here"] is True
    assert cities["paris"]["served_here"] is False
    assert cities["paris"]["region"] == "gcp-europe-west1"


def test_register_then_get_a_token_and_read_me(anonymous: ApiClient, client: FlaskClient) -> None:
    created = anonymous.post("/users", REGISTRATION)
    assert created.status_code == 201
    assert created.json["username"] == "ada_api"  # type: ignore[index]
    assert "password" not in created.get_data(as_text=True)
    token = client.post(
        f"{API}/auth/token", json={"username": "ADA_API", "password": "analytical engine"}
    )
    assert token.status_code == 201
    body = token.json
    assert body["token_type"] == "Bearer"  # type: ignore[index]
    me = ApiClient(client, body["token"]).get("/me")  # type: ignore[index]
    assert me.status_code == 200
    assert me.json["email"] == "ada@example.com"  # type: ignore[index]


def test_register_duplicate_username_is_a_conflict(anonymous: ApiClient) -> None:
    assert anonymous.post("/users", REGISTRATION).status_code == 201
    again = anonymous.post("/users", REGISTRATION | {"username": "Ada_Api"})
    assert again.status_code == 409
    assert again.json["code"] == "username_taken"  # type: ignore[index]
    assert again.mimetype == "application/problem+json"


def test_register_validation_lists_each_field(anonymous: ApiClient) -> None:
    response = anonymous.post(
        "/users", REGISTRATION | {"city": "atlantis", "password": "short", "username": "a b"}
    )
    assert response.status_code == 422
    body = response.json
    assert body["code"] == "validation_error"  # type: ignore[index]
    fields = {error["field"] for error in body["errors"]}  # type: ignore[index]
    assert {"body.password", "body.username"} <= fields


def test_unknown_fields_wrong_types_and_bad_json_are_4xx(
    anonymous: ApiClient, client: FlaskClient
) -> None:
    assert anonymous.post("/users", REGISTRATION | {"admin": True}).status_code == 422
    assert anonymous.post("/users", REGISTRATION | {"first_name": 42}).status_code == 422
    broken = client.post(f"{API}/users", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json["code"] == "malformed_json"  # type: ignore[index]
    form = client.post(f"{API}/users", data={"username": "x"})
    assert form.status_code == 415
    assert form.json["code"] == "unsupported_media_type"  # type: ignore[index]


def test_oversize_bodies_are_refused(anonymous: ApiClient) -> None:
    response = anonymous.post("/users", REGISTRATION | {"first_name": "x" * 70_000})
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"  # type: ignore[index]


def test_oversize_bodies_without_a_length_are_refused(client: FlaskClient) -> None:
    """A chunked body has no Content-Length: the server cuts it at the limit, MovR says 413."""
    body = json.dumps(REGISTRATION | {"first_name": "x" * 70_000}).encode()
    response = client.post(
        f"{API}/users",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
    )
    assert response.request.content_length is None
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"  # type: ignore[index]


def test_wrong_credentials_are_one_generic_401(anonymous: ApiClient, user: User) -> None:
    for credentials in (
        {"username": user.username, "password": "wrong pass"},
        {"username": "nobody", "password": "x"},
    ):
        response = anonymous.post("/auth/token", credentials)
        assert response.status_code == 401
        assert response.json["code"] == "invalid_credentials"  # type: ignore[index]
        assert response.json["detail"] == "Invalid username or password."  # type: ignore[index]


def test_tokens_are_stored_hashed(client: FlaskClient, user: User, session: Session) -> None:
    token = token_for(client, user)
    stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert stored
    assert token not in stored
    assert all(len(value) == 64 for value in stored)


def test_missing_or_bad_tokens_are_401_with_a_challenge(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get(f"{API}/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["code"] == "unauthorized"  # type: ignore[index]


def test_revoked_token_stops_working(api: ApiClient) -> None:
    assert api.delete("/auth/token").status_code == 204
    assert api.get("/me").status_code == 401


def test_expired_token_stops_working(api: ApiClient, session: Session) -> None:
    session.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second'"))
    assert api.get("/me").status_code == 401


def test_delete_me_erases_the_account_and_revokes_tokens(
    api: ApiClient, user: User, session: Session
) -> None:
    assert api.delete("/me").status_code == 204
    assert session.get_one(User, user.id, populate_existing=True).deleted_at is not None
    assert api.get("/me").status_code == 401


def test_delete_me_while_riding_is_refused(api: ApiClient, user: User, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    assert api.post("/rides", {"vehicle_id": str(vehicle.id)}).status_code == 201
    response = api.delete("/me")
    assert response.status_code == 409
    assert response.json["code"] == "still_riding"  # type: ignore[index]


def test_users_of_a_city_show_no_ids_or_emails(api: ApiClient, session: Session) -> None:
    other = make_user(session, city="boston", first_name="Bo", last_name="Ston")
    response = api.get("/users?city=boston")
    assert response.status_code == 200
    items = response.json["items"]  # type: ignore[index]
    assert items == [{"display_name": "Bo Ston", "is_owner": False}]
    assert str(other.id) not in response.get_data(as_text=True)


def test_cities_outside_the_region_are_refused(api: ApiClient) -> None:
    response = api.get("/users?city=paris")
    assert response.status_code == 422
    assert response.json["code"] == "city_not_in_region"  # type: ignore[index]


def test_cookie_session_works_for_reads_but_writes_need_the_csrf_header(
    client: FlaskClient, user: User, session: Session
) -> None:
    log_in(client, user)
    assert client.get(f"{API}/me").status_code == 200
    vehicle = make_vehicle(session, make_user(session))
    refused = client.post(f"{API}/rides", json={"vehicle_id": str(vehicle.id)})
    assert refused.status_code == 403
    assert refused.json["code"] == "csrf_required"  # type: ignore[index]
    accepted = client.post(
        f"{API}/rides",
        json={"vehicle_id": str(vehicle.id)},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert accepted.status_code == 201


def test_bearer_requests_need_no_csrf(api: ApiClient, session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    assert api.post("/rides", {"vehicle_id": str(vehicle.id)}).status_code == 201


def test_token_and_registration_are_rate_limited(
    settings: Settings, db: Database, hasher: PasswordHasher
) -> None:
    limits = {"login_rate_limit": "2 per minute", "register_rate_limit": "1 per minute"}
    app = create_app(dataclasses.replace(settings, **limits), database=db, hasher=hasher)
    with app.test_client() as client:
        statuses = [
            client.post(f"{API}/auth/token", json={"username": "x", "password": "y"}).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        registrations = [client.post(f"{API}/users", json={}).status_code for _ in range(2)]
        assert registrations == [422, 429]
        limited = client.post(f"{API}/auth/token", json={"username": "x", "password": "y"})
        assert limited.json["code"] == "rate_limited"  # type: ignore[index]
        assert "Retry-After" in limited.headers
