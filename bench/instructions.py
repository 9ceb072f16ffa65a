"""Instructions per API ride request, counted by valgrind: a figure no noisy machine blurs.

On this machine the same code's CPU time per request drifts by tens of percent from one
minute to the next, so small gains vanish in timings. This counts the instructions MovR's
process executes for a keyed `POST /rides` + `POST /rides/{id}/end` (in-process WSGI calls,
no HTTP and no gunicorn: MovR's own code, Flask, SQLAlchemy, psycopg), the same every time.

Starts an embedded PostgreSQL in a temporary folder and migrates it, then runs the request
loop twice under callgrind, with few and with many cycles: the difference over the extra
requests is the per-request count. `--src DIR` measures the MovR of another checkout (e.g. a
`git worktree` of an older commit) on the same database. Needs valgrind (apt: valgrind).
Usage: .venv/bin/python -m bench.instructions [--src DIR] [--cycles 200]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres
from movr.db.engine import create_database
from movr.db.migrate import upgrade
from movr.logs import configure_logging
from movr.web.app import create_app

WARM_UP = 20  # cycles before counting matters: statement caches, prepared statements
FEW = 10
COLLECTED = re.compile(r"Collected : (\d+)")
PASSWORD = "bench password 0123"  # noqa: S105 -- the benchmark riders' own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, help="the src folder's parent of another checkout")
    parser.add_argument("--cycles", type=int, default=200, help="start+end cycles counted")
    parser.add_argument("--loop", type=int, help=argparse.SUPPRESS)  # the measured child
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.loop is not None:
        request_loop(options.database_url, options.loop)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="movr-instructions-"))
    with EmbeddedPostgres(work) as server:
        server.ensure_database("movr")
        url = server.url("movr")
        settings = Settings.from_env(
            {"SECRET_KEY": secrets.token_urlsafe(32), "MOVR_DATA_DIR": str(work)}
        )
        database = create_database(settings, url)
        upgrade(database.engine, settings.region_map)
        database.dispose()
        few, many = (
            _count(valgrind, work, url, options.src, cycles) for cycles in (FEW, options.cycles)
        )
    shutil.rmtree(work, ignore_errors=True)
    per_request = (many - few) / (2 * (options.cycles - FEW))
    source = options.src or Path(__file__).resolve().parent.parent
    print(f"{per_request / 1e6:.3f} M instructions per keyed API ride request ({source})")


def _count(valgrind: str, work: Path, url: str, src: Path | None, cycles: int) -> int:
    """Instructions of one run of the request loop with `cycles` counted cycles."""
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(work / f"metrics-{cycles}"))
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"])
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(src / "src") if src else None, str(root), env.get("PYTHONPATH")])
    )
    done = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [
            valgrind, "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.{cycles}",
            sys.executable, "-m", "bench.instructions",
            "--loop", str(cycles), "--database-url", url,
        ],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the request loop failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(found.group(1))


def request_loop(database_url: str, cycles: int) -> None:
    """Register a rider and an owner, add a vehicle, then start and end rides on it."""

    environment = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "MOVR_ENV": "production",
    }
    environment |= {"MOVR_RATE_LIMITS": "off", "MOVR_REGISTER_RATE_LIMITS": "off"}
    settings = Settings.from_env(environment)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 -- the access log, as JSON, to nowhere
    configure_logging(settings)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # not what is measured
    app = create_app(settings, database=create_database(settings, database_url), hasher=cheap)
    city = settings.cities[0]
    with app.test_client() as client:
        rider, owner = (_token(client, city) for _ in range(2))
        added = client.post(
            "/api/v1/vehicles",
            json={"type": "bike", "color": "red", "brand": "Bench", "location": "Dock"},
            headers={"Authorization": f"Bearer {owner}"},
        )
        vehicle = added.json["id"]  # type: ignore[index]
    call = _wsgi_caller(app, rider)
    for _ in range(WARM_UP + cycles):
        started = call("/api/v1/rides", {"vehicle_id": vehicle})
        call(f"/api/v1/rides/{started['id']}/end", {"location": "Pier"})


def _token(client: Any, city: str) -> str:
    username = f"bench{uuid.uuid4().hex[:12]}"
    client.post(
        "/api/v1/users",
        json={
            "city": city, "first_name": "Bench", "last_name": "Rider", "username": username,
            "email": f"{username}@example.com", "password": PASSWORD,
        },
    )  # fmt: skip
    issued = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return str(issued.json["token"])


def _wsgi_caller(app: Any, token: str) -> Callable[[str, dict[str, str]], dict[str, Any]]:
    """POST a JSON body with a fresh Idempotency-Key straight to the WSGI app."""

    def call(path: str, body: dict[str, str]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)), "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        }  # fmt: skip
        statuses: list[str] = []
        answer = b"".join(app(environ, lambda status, _headers, _exc=None: statuses.append(status)))
        if not statuses[0].startswith(("200", "201")):
            raise SystemExit(f"{path}: {statuses[0]} {answer[:300]!r}")
        return dict(json.loads(answer))

    return call


if __name__ == "__main__":
    main()
