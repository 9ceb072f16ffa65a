"""SPEC §9 with a healthy replica: a ride action is one round trip to the primary, a
read-mostly page none."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from flask.testing import FlaskClient

from movr.db.engine import Database
from movr.db.roundtrips import StatementCounter
from tests.api.conftest import API
from tests.factories import PASSWORD
from tests.replica.conftest import Replicated
from tests.replica.test_read_your_writes import rider_and_vehicle
from tests.web.conftest import csrf_token, log_in

pytestmark = pytest.mark.replica


def round_trips(
    database: Database, request: Callable[[], Any], statuses: tuple[int, ...] = (200, 201, 303)
) -> tuple[list[str], list[str]]:
    """The statements `request` sent to the primary and to the replica."""
    assert database.reads.replica is not None
    primary = StatementCounter(database.pooled)
    replica = StatementCounter(database.reads.replica)
    with ExitStack() as stack:
        to_primary = stack.enter_context(primary.counting())
        to_replica = stack.enter_context(replica.counting())
        response = request()
        assert response.status_code in statuses, response.get_data(as_text=True)[:300]
    return list(to_primary), list(to_replica)


def test_pages_read_the_replica_and_ride_actions_send_one_statement_to_the_primary(
    replicated: Replicated, replica_db: Database, pages: FlaskClient, record_property: Any
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    csrf = csrf_token(pages, "/vehicles")
    replicated.caught_up()
    paths = ("/vehicles", "/rides", "/users", f"/users/{rider.id}")

    for page in paths:
        primary, replica = round_trips(replica_db, lambda p=page: pages.get(p))
        record_property(f"primary_{page}", len(primary))
        assert primary == [], (page, primary)
        assert replica, page

    start = lambda: pages.post(f"/rides/start/{vehicle.id}", data={"csrf_token": csrf})  # noqa: E731
    primary, _ = round_trips(replica_db, start)
    assert len(primary) == 1, primary
    # Right after the write: the page waits on the replica for it, not on the primary.
    primary, replica = round_trips(replica_db, lambda: pages.get("/rides"))
    assert primary == [], primary
    ride_id = pages.get("/rides").get_data(as_text=True).split("/rides/end/")[1].split('"')[0]
    end = lambda: pages.post(  # noqa: E731
        f"/rides/end/{ride_id}", data={"csrf_token": csrf, "location": "Pier"}
    )
    primary, _ = round_trips(replica_db, end)
    assert len(primary) == 1, primary


def test_api_reads_use_the_replica_and_ride_actions_one_statement(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    issued = pages.post(
        f"{API}/auth/token", json={"username": rider.username, "password": PASSWORD}
    )
    auth = {"Authorization": f"Bearer {issued.json['token']}"}  # type: ignore[index]
    replicated.caught_up()

    for path in ("/me", "/vehicles", "/rides", "/users"):
        primary, _ = round_trips(replica_db, lambda p=path: pages.get(API + p, headers=auth))
        assert primary == [], (path, primary)
    start = lambda: pages.post(  # noqa: E731
        f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=auth
    )
    primary, _ = round_trips(replica_db, start)
    assert len(primary) == 1, primary


def test_refused_page_retirements_and_deletions_send_one_statement_to_the_primary(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    csrf = {"csrf_token": csrf_token(pages, "/vehicles")}
    assert pages.post(f"/rides/start/{vehicle.id}", data=csrf).status_code == 303
    replicated.caught_up()

    for path, status in (
        (f"/vehicles/remove/{vehicle.id}", 403),
        (f"/users/remove/{rider.id}", 409),
    ):
        refuse = lambda p=path: pages.post(p, data=csrf)  # noqa: E731
        primary, replica = round_trips(replica_db, refuse, statuses=(status,))
        # The write's statement checks the session; the error page's navigation (and ride bar)
        # reads the session where pages read.
        assert len(primary) == 1, (path, primary)
        assert primary[0].startswith("WITH caller AS"), primary
        assert any(sql.startswith("SELECT users.id") for sql in replica), (path, replica)
