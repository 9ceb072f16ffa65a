"""Statements per request for the budgeted pages, counted on the benchmark's own database."""

from __future__ import annotations

import re
import uuid

from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import text

from movr.config import Settings
from movr.db.engine import Database
from movr.db.roundtrips import StatementCounter
from movr.web.app import create_app

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def count_statements(settings: Settings, database: Database) -> dict[str, int]:
    """Log a new rider in through the pages and count each budgeted request's statements."""
    app = create_app(
        settings,
        database=database,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    counter = StatementCounter(database.pooled)
    with app.test_client() as client:
        _register(client)
        page = client.get("/vehicles").get_data(as_text=True)
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        with database.engine.connect() as connection:
            vehicle = connection.scalar(
                text(
                    "SELECT id FROM vehicles "
                    "WHERE status = 'available' AND city = 'new york' LIMIT 1"
                )
            )
        me = _own_id(client)
        counts: dict[str, int] = {}
        for name, call in (
            ("GET /vehicles", lambda: client.get("/vehicles")),
            ("GET /rides", lambda: client.get("/rides")),
            ("GET /users/<id>", lambda: client.get(f"/users/{me}")),
            (
                "POST /rides/start/<id>",
                lambda: client.post(f"/rides/start/{vehicle}", data={"csrf_token": token}),
            ),
        ):
            with counter.counting() as statements:
                call()
            counts[name] = len(statements)
        with database.engine.connect() as connection:
            ride = connection.scalar(
                text("SELECT id FROM rides WHERE rider_id = :me AND end_time IS NULL"), {"me": me}
            )
        with counter.counting() as statements:
            client.post(f"/rides/end/{ride}", data={"csrf_token": token, "location": "bench"})
        counts["POST /rides/end/<id>"] = len(statements)
    return counts


def _register(client: FlaskClient) -> None:
    page = client.get("/register").get_data(as_text=True)
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    client.post(
        "/register",
        data={
            "csrf_token": token, "city": "new york", "first_name": "Bench", "last_name": "Mark",
            "email": f"{name}@example.com", "username": name,
            "password": "bench password", "confirm": "bench password",
        },
    )  # fmt: skip


def _own_id(client: FlaskClient) -> str:
    page = client.get("/vehicles").get_data(as_text=True)
    return re.search(r'href="/users/([0-9a-f-]{36})"', page).group(1)  # type: ignore[union-attr]
