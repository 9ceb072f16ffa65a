"""Round trips per request to the primary and to the region's replica (SPEC §9).

Starts an embedded PostgreSQL primary and a streaming hot standby of it in a temporary folder,
migrates and seeds them, then drives one rider through the pages and the API twice: with the
primary alone, and with reads on the standby. Every statement is one round trip (nothing is
pipelined); BEGIN, COMMIT and loading the logged-in user count. Prints the table and writes it
into bench/RESULTS.md between its markers.
Usage: .venv/bin/python -m bench.round_trips
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedStandby
from movr.db.engine import Database, create_database
from movr.db.migrate import upgrade
from movr.db.roundtrips import StatementCounter
from movr.seeding import SeedPlan, demo_logins, seed
from movr.services.passwords import fast_hasher
from movr.web.app import create_app
from movr.web.consistency import HEADER

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- round trips: begin -->", "<!-- round trips: end -->"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
API = "/api/v1"
Counts = dict[str, tuple[int, int]]


def measure(settings: Settings, database: Database) -> Counts:
    """(primary, replica) statements of each request of one rider's visit."""
    app = create_app(settings, database=database, hasher=fast_hasher())
    primary = StatementCounter(database.pooled)
    replica = StatementCounter(database.reads.replica) if database.reads.replica else None
    counts: Counts = {}

    def count(name: str, call: Callable[[], Any]) -> Any:
        with ExitStack() as stack:
            on_primary = stack.enter_context(primary.counting())
            on_replica = stack.enter_context(replica.counting()) if replica else []
            response = call()
        assert response.status_code < 400, (name, response.status_code)  # noqa: S101
        counts[name] = (len(on_primary), len(on_replica))
        return response

    login = demo_logins(settings.region_map)[0]
    with app.test_client() as pages:
        token = _csrf(pages, "/login")
        count("page POST /login", lambda: pages.post("/login", data=_login(login, token)))
        token = _csrf(pages, "/vehicles")
        vehicle = _available_vehicle(pages)
        count("page GET /vehicles", lambda: pages.get("/vehicles"))
        count("page GET /users", lambda: pages.get("/users"))
        me = re.search(r'href="/users/([0-9a-f-]{36})"', pages.get("/vehicles").text)
        assert me is not None  # noqa: S101
        count("page GET /users/<id>", lambda: pages.get(f"/users/{me.group(1)}"))
        start = {"csrf_token": token}
        count(
            "page POST /rides/start/<id>", lambda: pages.post(f"/rides/start/{vehicle}", data=start)
        )
        rides_page = count("page GET /rides (right after the start)", lambda: pages.get("/rides"))
        ride = re.search(r"/rides/end/([0-9a-f-]{36})", rides_page.text)
        assert ride is not None  # noqa: S101
        end = {"csrf_token": token, "location": "Bench"}
        count(
            "page POST /rides/end/<id>", lambda: pages.post(f"/rides/end/{ride.group(1)}", data=end)
        )
    with app.test_client() as api:
        body = {"username": login.username, "password": login.password}
        issued = count("API POST /auth/token", lambda: api.post(f"{API}/auth/token", json=body))
        auth = {"Authorization": f"Bearer {issued.json['token']}", HEADER: issued.headers[HEADER]}
        for path in ("/me", "/vehicles", "/rides"):
            count(f"API GET {path}", lambda p=path: api.get(API + p, headers=auth))
        keyed = auth | {"Idempotency-Key": f"bench-{time.time_ns()}"}
        started = count(
            "API POST /rides",
            lambda: api.post(f"{API}/rides", json={"vehicle_id": vehicle}, headers=keyed),
        )
        keyed[HEADER] = started.headers[HEADER]
        keyed["Idempotency-Key"] += "-end"
        ride_id = started.json["id"]
        count(
            "API POST /rides/<id>/end",
            lambda: api.post(f"{API}/rides/{ride_id}/end", json={"location": "B"}, headers=keyed),
        )
    _account_and_vehicle(app, count)
    return counts


VEHICLE = {"type": "bike", "color": "green", "brand": "Bench", "location": "1 Bench St"}


def _account_and_vehicle(app: Any, count: Callable[[str, Callable[[], Any]], Any]) -> None:
    """A newcomer's writes, page and API: register, add a vehicle, retire it, leave."""
    suffix = time.time_ns()
    person = {
        "city": "new york", "first_name": "Bench", "last_name": "Mark",
        "email": "bench@example.com", "password": "bench password",
    }  # fmt: skip
    with app.test_client() as pages:
        form = person | {"username": f"page-{suffix}", "confirm": person["password"]}
        form["csrf_token"] = _csrf(pages, "/register")
        count("page POST /register", lambda: pages.post("/register", data=form))
        token = {"csrf_token": _csrf(pages, "/vehicles")}
        count("page POST /vehicles/add", lambda: pages.post("/vehicles/add", data=VEHICLE | token))
        me = re.search(r'href="/users/([0-9a-f-]{36})"', pages.get("/vehicles").text)
        assert me is not None  # noqa: S101
        profile = pages.get(f"/users/{me.group(1)}").text
        added = re.search(r"/vehicles/remove/([0-9a-f-]{36})", profile)
        assert added is not None  # noqa: S101
        remove = f"/vehicles/remove/{added.group(1)}"
        count("page POST /vehicles/remove/<id>", lambda: pages.post(remove, data=token))
        leave = f"/users/remove/{me.group(1)}"
        count("page POST /users/remove/<id>", lambda: pages.post(leave, data=token))
    with app.test_client() as api:
        body = person | {"username": f"api-{suffix}"}
        registered = count("API POST /users", lambda: api.post(f"{API}/users", json=body))
        login = {"username": body["username"], "password": person["password"]}
        issued = api.post(f"{API}/auth/token", json=login, headers=_after(registered))
        auth = {"Authorization": f"Bearer {issued.json['token']}"}
        add = lambda: api.post(f"{API}/vehicles", json=VEHICLE, headers=auth | _after(issued))  # noqa: E731
        vehicle = count("API POST /vehicles", add)
        retire = f"{API}/vehicles/{vehicle.json['id']}"
        retired = count(
            "API DELETE /vehicles/<id>",
            lambda: api.delete(retire, headers=auth | _after(vehicle)),
        )
        count("API DELETE /me", lambda: api.delete(f"{API}/me", headers=auth | _after(retired)))


def _after(response: Any) -> dict[str, str]:
    """The read-your-writes header a write's response carries, to send back."""
    return {HEADER: response.headers[HEADER]} if HEADER in response.headers else {}


def table(alone: Counts, replicated: Counts) -> str:
    """The markdown section for bench/RESULTS.md."""
    lines = [
        BEGIN,
        "Round trips per request (statements; BEGIN, COMMIT and loading the user included; "
        "SPEC §9: at most 1 to the primary, 0 for read-mostly requests while the replica is "
        "healthy), from `python -m bench.round_trips`:",
        "",
        "| request | primary alone | with a hot standby: primary | with a hot standby: standby |",
        "|---|---|---|---|",
    ]
    for name, (primary, _) in alone.items():
        on_primary, on_standby = replicated[name]
        lines.append(f"| {name} | {primary} | {on_primary} | {on_standby} |")
    lines += [
        "",
        "A login (page or API) also pays its limits, on the primary: one atomic count per "
        "window of the client's limit (2) and of the account's (1) before the password check, "
        "and the client's attempts given back after a success (2); each count answers with its "
        "window, so the X-RateLimit headers cost nothing more. An API token is one statement "
        "that also counts the account's live tokens; only a login over the cap pays a second "
        "one, revoking the oldest. A registration pays the client's registration limit the "
        "same way (one count per window, 2), then its one insert; the page's registration "
        "also opens the new account's session (a token's issue, 1). Adding a vehicle is the "
        "session or token check, on the primary even with a standby (a write must see a revoked "
        "session at once; the vehicle's city is the owner's), then one statement. Retiring a "
        "vehicle and deleting the account, like the ride actions, are one statement that checks "
        "the session or token itself (a dead one changes nothing and is answered as no "
        "credentials are) and also says why it refused, if it did; a page's refusal then shows "
        "an error page, whose session read goes where pages read (the standby when healthy). "
        "A read that carries the client's own last "
        "write first asks the standby whether it shows it (1 statement there, once per request, "
        "never on the primary).",
        END,
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Put the section into bench/RESULTS.md (replacing the previous one, or appended)."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END)
        updated = head + section + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(updated, encoding="utf-8")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="movr-round-trips-"))
    primary = EmbeddedPostgres(work / "primary")
    standby = EmbeddedStandby(work / "standby", primary)
    try:
        primary.start()
        primary.ensure_database("movr")
        settings = Settings.from_env(
            {"SECRET_KEY": "bench-secret-key-0123456789", "MOVR_DATA_DIR": str(work)},
            development=True,
        )
        alone = create_database(settings, primary.url("movr"))
        upgrade(alone.engine, settings.region_map)
        seed(alone.sessions, fast_hasher(), settings.region_map, SeedPlan())
        standby.start()
        replicated = create_database(settings, primary.url("movr"), standby.url("movr"))
        _caught_up(alone.pooled, replicated)
        results = measure(settings, alone), measure(settings, replicated)
        alone.dispose()
        replicated.dispose()
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(work, ignore_errors=True)
    section = table(*results)
    print(section)
    write_section(section)


def _caught_up(primary: Engine, replicated: Database, timeout: float = 30) -> None:
    """Wait until the standby has replayed all the set-up."""
    assert replicated.reads.replica is not None  # noqa: S101
    with primary.connect() as connection:
        lsn = connection.scalar(text("SELECT pg_current_wal_lsn()"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with replicated.reads.replica.connect() as connection:
            query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
            if connection.scalar(query, {"lsn": lsn}):
                return
        time.sleep(0.05)
    raise SystemExit("the standby did not catch up")


def _csrf(client: FlaskClient, page: str) -> str:
    match = CSRF.search(client.get(page, follow_redirects=True).text)
    assert match is not None  # noqa: S101
    return match.group(1)


def _login(login: Any, token: str) -> dict[str, str]:
    return {"csrf_token": token, "username": login.username, "password": login.password}


def _available_vehicle(client: FlaskClient) -> str:
    listed: dict[str, Any] = client.get(f"{API}/vehicles").json or {}
    return str(next(v["id"] for v in listed["items"] if v["status"] == "available"))


if __name__ == "__main__":
    main()
