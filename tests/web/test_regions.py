"""The serving region: badge, header, city lists, travellers, adding vehicles elsewhere."""

from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.regions import RegionMap
from movr.web.app import create_app
from tests.factories import make_user, make_vehicle
from tests.web.conftest import log_in, post

REGIONS = RegionMap.default().regions


def app_for(
    region: str, settings: Settings, db: Database, hasher: PasswordHasher, **extra: object
) -> Flask:
    serving = dataclasses.replace(settings, region=region, **extra)  # type: ignore[arg-type]
    return create_app(serving, database=db, hasher=hasher)


@pytest.mark.parametrize("region", REGIONS)
def test_every_page_names_the_serving_region(
    region: str, settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    user = make_user(session, city=RegionMap.default().cities(region)[0].id)
    with app_for(region, settings, db, hasher).test_client() as client:
        login_page = client.get("/login")
        assert login_page.headers["X-MovR-Region"] == region
        assert f"Served from {region}" in login_page.get_data(as_text=True)
        log_in(client, user)
        html = client.get("/vehicles").get_data(as_text=True)
        for city in RegionMap.default().cities(region):
            assert city.name in html  # the city switcher offers exactly this region's cities
        others = [c for c in RegionMap.default() if c.region != region]
        assert all(f'action="/city/{c.id.replace(" ", "%20")}"' not in html for c in others)


def test_a_traveller_browses_and_rides_in_the_serving_region(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    traveller = make_user(session, city="paris")
    vehicle = make_vehicle(session, make_user(session, city="seattle"), brand="SeattleBike")
    with app_for("gcp-us-west1", settings, db, hasher).test_client() as client:
        log_in(client, traveller)
        html = client.get("/vehicles").get_data(as_text=True)
        assert "Vehicles in San Francisco" in html  # home not served here: the region's first city
        post(client, "/city/seattle")
        assert "SeattleBike" in client.get("/vehicles").get_data(as_text=True)
        assert post(client, f"/rides/start/{vehicle.id}").status_code == 303


def test_adding_a_vehicle_away_from_home_links_to_the_home_region(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    traveller = make_user(session, city="paris")
    urls = {"gcp-europe-west1": "https://eu.movr.example"}
    with app_for("gcp-us-east1", settings, db, hasher, region_urls=urls).test_client() as client:
        log_in(client, traveller)
        page = client.get("/vehicles/add")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "gcp-europe-west1" in html
        assert 'href="https://eu.movr.example/vehicles/add"' in html
        refused = post(
            client, "/vehicles/add", {"type": "bike", "color": "red", "brand": "b", "location": "l"}
        )
        assert refused.status_code == 422
        assert "https://eu.movr.example" in refused.get_data(as_text=True)


def test_home_city_is_the_default_city_when_served_here(logged_in: FlaskClient) -> None:
    assert "Vehicles in New York" in logged_in.get("/vehicles").get_data(as_text=True)


STAND_IN = {"X-MovR-Client-Region": "gcp-europe-west1"}  # as the load balancer sets it


def test_behind_the_load_balancer_a_region_stands_in_for_a_region_that_is_down(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    # The entry of Europe's clients sends them to us-east1 only while Europe's app is down:
    # us-east1 then serves Europe's cities too, pages and API alike, and says so.
    rider = make_user(session, city="paris")
    vehicle = make_vehicle(session, make_user(session, city="paris"), brand="ParisBike")
    app = app_for("gcp-us-east1", settings, db, hasher, proxy_hops=1, forwarded_for_hops=1)
    with app.test_client() as client:
        client.environ_base.update({"HTTP_X_MOVR_CLIENT_REGION": STAND_IN["X-MovR-Client-Region"]})
        log_in(client, rider)
        html = client.get("/vehicles").get_data(as_text=True)
        assert "Vehicles in Paris" in html
        assert "ParisBike" in html
        assert "The gcp-europe-west1 region is unavailable for a moment" in html
        assert 'action="/city/amsterdam"' in html  # the switcher offers Europe's cities too
        assert post(client, f"/rides/start/{vehicle.id}").status_code == 303
        listed = client.get("/api/v1/vehicles?city=rome")
        assert listed.status_code == 200


def test_the_client_region_header_is_ignored_without_a_trusted_proxy(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    # Sent straight to an instance (MOVR_PROXY_HOPS=0), the header is anyone's to forge.
    rider = make_user(session, city="paris")
    vehicle = make_vehicle(session, make_user(session, city="paris"))
    with app_for("gcp-us-east1", settings, db, hasher).test_client() as client:
        client.environ_base.update({"HTTP_X_MOVR_CLIENT_REGION": STAND_IN["X-MovR-Client-Region"]})
        log_in(client, rider)
        html = client.get("/vehicles").get_data(as_text=True)
        assert "Vehicles in New York" in html
        assert "unavailable for a moment" not in html
        assert post(client, f"/rides/start/{vehicle.id}").status_code == 422
        assert client.get("/api/v1/vehicles?city=rome").status_code == 422
