"""A replica that lags too far or is down is not read; reads return once it is back."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from movr.db.engine import Database, create_database
from movr.db.transaction import run_in_transaction
from movr.services import rides
from tests.replica.conftest import (
    Replicated,
    app_on,
    fallbacks,
    reads_served,
    replica_settings,
)
from tests.replica.test_read_your_writes import rider_and_vehicle
from tests.web.conftest import log_in

pytestmark = pytest.mark.replica

EAST = ["new york", "boston", "washington dc"]


def test_a_replica_lagging_beyond_the_bound_is_not_read(
    replicated: Replicated, replica_db: Database, hasher: PasswordHasher
) -> None:
    settings = replica_settings(max_replica_lag_ms=200)
    strict = create_database(settings, replicated.primary_url, replicated.standby_url)
    try:
        rider, vehicle = rider_and_vehicle(strict, replicated)
        with app_on(strict, hasher, settings).test_client() as pages:
            log_in(pages, rider)
            pages.get("/vehicles")
            lagging_before = fallbacks("lagging")
            # Someone else's write: the replica is now a second behind for everybody.
            run_in_transaction(
                strict.sessions, lambda s: rides.start_ride(s, rider.id, vehicle.id, EAST)
            )

            page = pages.get("/rides").get_data(as_text=True)

            assert "Riding now:" in page  # read from the primary
            assert fallbacks("lagging") > lagging_before
            assert strict.reads.state().health.value == "lagging"
            metrics = pages.get("/metrics").get_data(as_text=True)
            assert 'movr_replica_fallbacks_total{reason="lagging",region="gcp-us-east1"}' in metrics
            ready = pages.get("/readyz")
            assert ready.status_code == 200  # a lagging replica never makes the app unready
            assert ready.json["replica"]["state"] == "lagging"  # type: ignore[index]
    finally:
        strict.dispose()


def test_with_the_replica_down_every_page_works_and_reads_return_once_it_is_back(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    rider, _ = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    pages.get("/vehicles")
    replicated.standby.stop()
    try:
        down_before = fallbacks("down") + fallbacks("unreachable")
        for page in ("/vehicles", "/rides", "/users", f"/users/{rider.id}"):
            assert pages.get(page).status_code == 200, page
        assert fallbacks("down") + fallbacks("unreachable") > down_before
        assert pages.get("/readyz").json["replica"]["state"] == "down"  # type: ignore[index]
    finally:
        replicated.standby.start()
    replicated.caught_up()
    pages.get("/vehicles")  # may still find a dead pooled connection: it is replaced
    served_before = reads_served("replica")

    assert pages.get("/vehicles").status_code == 200

    assert reads_served("replica") > served_before
