"""Phone-first pages (issue 17): nearest first, the ride bar, the manifest, the footer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from movr.db.engine import Database
from movr.models import User
from movr.services import rides
from movr.services.positions import Position
from movr.web import ui
from movr.web.app import create_app
from tests.conftest import make_settings
from tests.factories import make_user, make_vehicle

STATIC = Path(ui.__file__).parent / "static"
UPTOWN = Position(40.80, -73.95)
DOWNTOWN = Position(40.70, -74.01)
BROOKLYN = Position(40.68, -73.97)


def brands_in_order(html: str) -> list[str]:
    """The brands of the vehicle cards, top to bottom."""
    return re.findall(r'data-title="\w+ (\w+) \w+"', html)


@pytest.fixture
def fleet(session: Session) -> None:
    owner = make_user(session)
    for brand, where in (("Uptown", UPTOWN), ("Downtown", DOWNTOWN), ("Brooklyn", BROOKLYN)):
        make_vehicle(session, owner, position=where, brand=brand)


@pytest.mark.usefixtures("fleet")
def test_vehicles_are_ordered_from_the_city_centre_without_a_position(
    logged_in: FlaskClient,
) -> None:
    html = logged_in.get("/vehicles").get_data(as_text=True)
    assert brands_in_order(html) == ["Downtown", "Brooklyn", "Uptown"]
    assert "Nearest to the centre of New York first." in html
    assert "movr-distance" not in html  # distances are shown only from the rider's position


@pytest.mark.usefixtures("fleet")
def test_vehicles_are_ordered_from_the_riders_position_and_show_the_distance(
    logged_in: FlaskClient,
) -> None:
    html = logged_in.get("/vehicles?lat=40.79&lng=-73.95").get_data(as_text=True)
    assert brands_in_order(html) == ["Uptown", "Downtown", "Brooklyn"]
    assert "Nearest to you first." in html
    assert '<span class="movr-distance">1.1 km</span>' in html  # 0.01 degree of latitude


@pytest.mark.usefixtures("fleet")
@pytest.mark.parametrize(
    "query", ["lat=91&lng=0", "lat=nan&lng=1", "lat=1e999&lng=1", "lat=40.7", "lat=x&lng=y"]
)
def test_a_bad_position_falls_back_to_the_city_centre(logged_in: FlaskClient, query: str) -> None:
    response = logged_in.get(f"/vehicles?{query}")
    assert response.status_code == 200
    assert brands_in_order(response.get_data(as_text=True)) == ["Downtown", "Brooklyn", "Uptown"]


@pytest.mark.usefixtures("fleet")
def test_nearest_first_pages_follow_on_with_the_same_position(logged_in: FlaskClient) -> None:
    first = logged_in.get("/vehicles?lat=40.79&lng=-73.95&size=2").get_data(as_text=True)
    assert brands_in_order(first) == ["Uptown", "Downtown"]
    link = re.search(r'href="(/vehicles\?[^"]*cursor=[^"]+)"', first)
    assert link is not None
    assert "lat=40.79" in link.group(1)
    assert "lng=-73.95" in link.group(1)
    second = logged_in.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert brands_in_order(second) == ["Brooklyn"]


def test_the_ride_bar_shows_the_ride_in_progress_on_other_pages(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    assert 'aria-label="Ride in progress"' not in logged_in.get("/vehicles").get_data(as_text=True)
    vehicle = make_vehicle(session, make_user(session), brand="Barbikes", color="teal")
    ride = rides.start_ride(session, user.id, vehicle.id, ["new york"])
    for page in ("/vehicles", "/users", "/vehicles/add", f"/users/{user.id}"):
        html = logged_in.get(page).get_data(as_text=True)
        assert 'aria-label="Ride in progress"' in html, page
        assert "Riding the teal Barbikes scooter" in html
        assert f'action="/rides/end/{ride.id}"' in html
        assert f'data-since="{ride.start_time.isoformat()}"' in html
    # /rides shows the ride in full (its own end form): no bar there.
    rides_page = logged_in.get("/rides").get_data(as_text=True)
    assert 'aria-label="Ride in progress"' not in rides_page


def test_the_ride_bar_ends_the_ride_with_a_typed_location(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    ride = rides.start_ride(session, user.id, vehicle.id, ["new york"])
    html = logged_in.get("/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    response = logged_in.post(
        f"/rides/end/{ride.id}", data={"csrf_token": token.group(1), "location": "Pier 17"}
    )
    assert response.status_code == 303
    assert rides.get_ride(session, user.id, ride.id).end_location == "Pier 17"
    assert 'aria-label="Ride in progress"' not in logged_in.get("/users").get_data(as_text=True)


def test_every_page_links_the_manifest_and_the_manifest_installs(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.json">' in html
    assert '<meta name="theme-color" content="#212529">' in html
    with client.get("/static/manifest.json") as response:
        manifest = response.get_json()
    assert manifest["start_url"] == "/vehicles"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#212529"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert (STATIC / icon["src"]).is_file(), icon


def test_no_service_worker_caches_anything() -> None:
    """Installable, but nothing personal is kept offline: there is no service worker."""
    for script in STATIC.glob("*.js"):
        assert "serviceWorker" not in script.read_text(), script


def test_the_footer_credits_the_configured_tile_attribution(
    db: Database, hasher: PasswordHasher
) -> None:
    settings = make_settings(tile_attribution='Tiles &copy; <a href="https://x.test">Example</a>')
    with create_app(settings, database=db, hasher=hasher).test_client() as client:
        html = client.get("/login").get_data(as_text=True)
    # As text: the entity read, the markup dropped (the map's own control shows the links).
    assert "<span>Map data: Tiles © Example</span>" in html
    assert "OpenStreetMap" not in html
