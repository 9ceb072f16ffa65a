"""Health, readiness, metrics and structured logs."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.deadlines import DeadlineExceeded
from movr.db.engine import Database, create_database
from movr.logs import configure_logging
from movr.models import User
from movr.web import serving
from movr.web.app import create_app
from movr.web.auth import SEEN_KEY
from movr.web.observability import ACTIVE_RIDES_KEY
from movr.web.runtime import Runtime
from tests.api.conftest import API, token_for
from tests.factories import PASSWORD, make_user, make_vehicle
from tests.web.conftest import log_in, post

UNREACHABLE = "postgresql+psycopg://nobody@/nowhere?host=/nonexistent-socket-dir"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def broken_db(settings: Settings) -> Iterator[Database]:
    database = create_database(settings, UNREACHABLE)
    yield database
    database.dispose()


def test_healthz_needs_no_database(
    settings: Settings, broken_db: Database, hasher: PasswordHasher
) -> None:
    with create_app(settings, database=broken_db, hasher=hasher).test_client() as client:
        assert client.get("/healthz").status_code == 200


def test_readyz_is_ready_on_a_current_schema(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"  # type: ignore[index]


def test_readyz_reports_an_unreachable_database(
    settings: Settings, broken_db: Database, hasher: PasswordHasher
) -> None:
    with create_app(settings, database=broken_db, hasher=hasher).test_client() as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "database unreachable" in response.json["reason"]  # type: ignore[index]
        page = client.get("/login")
        assert page.status_code == 200  # pages that need no database still work


def test_readyz_reports_a_schema_behind_the_code(client: FlaskClient, session: Session) -> None:
    session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "movr db upgrade" in response.json["reason"]  # type: ignore[index]


def test_pages_fail_fast_with_503_when_the_database_is_gone(
    settings: Settings, broken_db: Database, hasher: PasswordHasher
) -> None:
    with create_app(settings, database=broken_db, hasher=hasher).test_client() as client:
        with client.session_transaction() as cookie:
            cookie["_user_id"] = "00000000-0000-0000-0000-000000000001"
            cookie[SEEN_KEY] = int(time.time())  # a session in use, not an idle one
        response = client.get("/vehicles")
        assert response.status_code == 503
        assert "nowhere" not in response.get_data(as_text=True)
        api = client.get("/api/v1/cities")
        assert api.status_code == 200  # no database needed
        me = client.get("/api/v1/me", headers={"Authorization": "Bearer x"})
        assert me.status_code == 503
        assert me.json["code"] == "service_unavailable"  # type: ignore[index]


def test_metrics_move_with_real_requests(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    before = logged_in.get("/metrics").get_data(as_text=True)
    vehicle = make_vehicle(session, make_user(session))
    post(logged_in, f"/rides/start/{vehicle.id}")
    logged_in.application.extensions[ACTIVE_RIDES_KEY].sample()  # what its thread does
    after = logged_in.get("/metrics").get_data(as_text=True)
    region = "gcp-us-east1"
    for name, labels in (
        ("movr_rides_started_total", {"region": region}),
        ("movr_transaction_attempts_total", {"operation": "start_ride", "region": region}),
        ("movr_http_requests_total", {"route": "/rides/start/<uuid:vehicle_id>", "status": "303"}),
    ):
        assert metric(after, name, **labels) == metric(before, name, **labels) + 1, name
    assert metric(after, "movr_active_rides", region=region) >= 1
    assert "movr_http_request_duration_seconds_bucket" in after
    assert "movr_db_pool_connections_in_use" in after


def test_metrics_can_require_a_token(
    settings: Settings, db: Database, hasher: PasswordHasher
) -> None:
    protected = dataclasses.replace(settings, metrics_token="scrape-secret")
    with create_app(protected, database=db, hasher=hasher).test_client() as client:
        assert client.get("/metrics").status_code == 401
        authorized = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert authorized.status_code == 200


def test_metrics_need_no_database(
    settings: Settings, broken_db: Database, hasher: PasswordHasher
) -> None:
    app = create_app(settings, database=broken_db, hasher=hasher)
    app.extensions[ACTIVE_RIDES_KEY].sample()  # the counter's thread meets the outage quietly
    with app.test_client() as client:
        client.get("/vehicles")  # counted (a redirect to the login page)
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert metric(text, "movr_http_requests_total", route="/vehicles", status="302") >= 1
    assert "movr_active_rides" not in text  # never counted: left out, not made up


@pytest.fixture
def production_app(settings: Settings, db: Database, hasher: PasswordHasher) -> Flask:
    """The app as production runs it (no MOVR_METRICS_TOKEN)."""
    return create_app(dataclasses.replace(settings, environment="production"), db, hasher)


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "status"),
    [
        ("127.0.0.1", None, 200),  # a scraper on this machine
        ("::1", None, 200),
        ("10.1.2.3", None, 403),  # anyone else
        ("127.0.0.1", "203.0.113.9", 403),  # relayed by a proxy on this machine
    ],
)
def test_production_serves_metrics_only_on_this_machine_without_a_token(
    production_app: Flask, remote_addr: str, forwarded_for: str | None, status: int
) -> None:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    with production_app.test_client() as client:
        response = client.get(
            "/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote_addr}
        )
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    if status == 403:
        assert "MOVR_METRICS_TOKEN" in response.get_data(as_text=True)


@pytest.fixture
def json_logs(settings: Settings) -> Iterator[io.StringIO]:
    """Configure JSON logging into a buffer; restore logging afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(dataclasses.replace(settings, log_format="json"), stream=stream)
    yield stream
    root.handlers, root.level = saved[0], saved[1]
    structlog.reset_defaults()


def test_request_logs_are_json_with_request_id_and_user(
    json_logs: io.StringIO, client: FlaskClient, user: User
) -> None:
    log_in(client, user)
    response = client.get("/vehicles", headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    record = next(line for line in lines if line.get("request_id") == "req-42")
    assert record["event"] == "request"
    assert record["route"] == "/vehicles"
    assert record["status"] == 200
    assert record["user_id"] == str(user.id)
    assert record["region"] == "gcp-us-east1"
    assert {"timestamp", "level", "duration_ms", "method"} <= set(record)


def test_an_api_ride_names_its_rider_though_no_lookup_loaded_them(
    json_logs: io.StringIO, client: FlaskClient, user: User, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    headers = {"Authorization": f"Bearer {token_for(client, user)}", "X-Request-ID": "ride-1"}
    started = client.post(f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=headers)
    assert started.status_code == 201
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    record = next(line for line in lines if line.get("request_id") == "ride-1")
    assert record["user_id"] == str(user.id)


def test_a_request_that_waited_past_its_deadline_is_refused_unrun(
    json_logs: io.StringIO, client: FlaskClient, settings: Settings
) -> None:
    waited = settings.bounds.request_ms / 1000 + 1
    serving.queued(time.monotonic() - waited)  # as the worker does before handing it over
    response = client.get(f"{API}/cities", headers={"X-Request-ID": "late-1"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.content_type.startswith("application/problem+json")
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    record = next(
        line for line in lines if line.get("request_id") == "late-1" and line["event"] == "request"
    )
    assert record["queue_ms"] >= waited * 1000
    assert record["total_ms"] >= record["queue_ms"] + record["duration_ms"] - 0.1
    assert client.get(f"{API}/cities").status_code == 200  # the next one waited for nothing


def test_readyz_answers_json_when_the_deadline_cuts_its_check(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def late(*_: Any, **__: Any) -> None:
        raise DeadlineExceeded("the request's deadline passed")

    monkeypatch.setattr(Runtime, "run", late)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "database unreachable (DeadlineExceeded)"  # type: ignore[index]


def test_readyz_turns_unready_while_draining(client: FlaskClient) -> None:
    serving.DRAINING.set()
    try:
        response = client.get("/readyz")
    finally:
        serving.DRAINING.clear()
    assert response.status_code == 503
    assert response.json["reason"] == "draining"  # type: ignore[index]


def test_unsafe_request_ids_are_replaced(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_logs_never_contain_passwords_or_tokens(
    json_logs: io.StringIO, client: FlaskClient, user: User
) -> None:
    log_in(client, user)
    post(client, "/login", {"username": user.username or "", "password": "a wrong password!"})
    token = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
    ).json["token"]  # type: ignore[index]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    text = json_logs.getvalue()
    assert text
    for secret in (PASSWORD, "a wrong password!", token):
        assert secret not in text
