"""`movr serve` as a real gunicorn process on an embedded PostgreSQL of its own (so that a
test may stop or freeze it), and what tests need around it."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from movr.config import Settings
from movr.db import migrate
from movr.db.embedded import EmbeddedPostgres
from movr.db.engine import create_database
from movr.db.transaction import run_in_transaction
from movr.regions import RegionMap
from tests.factories import make_user, make_vehicle
from tests.processes import free_port, start_serve, wait_for

SECRET = "a-test-secret-key-of-some-length"


@dataclass
class Served:
    """A running `movr serve` and the database behind it."""

    url: str
    database_url: str
    server: EmbeddedPostgres
    process: subprocess.Popen[str]
    settings: Settings
    log: Path
    tokens: list[str] = field(default_factory=list)


@contextmanager
def serve_movr(tmp_path: Path, **env: str) -> Iterator[Served]:
    """An embedded PostgreSQL of its own and `movr serve` on it (2 workers unless `env` says
    otherwise), its output in `tmp_path / "serve.log"`."""
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    server.ensure_database("movr")
    url = server.url("movr")
    settings = Settings.from_env({"SECRET_KEY": SECRET, "MOVR_DATA_DIR": str(tmp_path)})
    engine = create_engine(url)
    migrate.upgrade(engine, RegionMap.default())
    engine.dispose()
    port = free_port()
    defaults = {"SECRET_KEY": SECRET, "MOVR_RATE_LIMITS": "off", "WEB_CONCURRENCY": "2"}
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = start_serve(port, tmp_path, url, output, **(defaults | env))
        try:
            wait_for(f"{base}/healthz", process, log=log)  # type: ignore[arg-type]
            yield Served(base, url, server, process, settings, log)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            server.stop()


def rider_token(base: str) -> str:
    username = f"rider-{uuid.uuid4().hex[:10]}"
    password = "long enough password"
    registration = {
        "city": "new york",
        "first_name": "R",
        "last_name": "T",
        "email": f"{username}@example.com",
        "username": username,
        "password": password,
    }
    httpx.post(f"{base}/api/v1/users", json=registration, timeout=30).raise_for_status()
    token = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30
    )
    token.raise_for_status()
    return str(token.json()["token"])


def add_vehicles(served: Served, count: int) -> list[str]:
    database = create_database(served.settings, served.database_url)
    try:
        fleet = run_in_transaction(
            database.sessions,
            lambda s: [make_vehicle(s, make_user(s)).id for _ in range(count)],
        )
    finally:
        database.dispose()
    return [str(v) for v in fleet]
