"""Helpers shared by the browser tests: accounts through the UI, offline map tiles."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect
from sqlalchemy.orm import Session

from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.services.positions import Position
from tests.factories import make_user, make_vehicle

APP_HOST = "127.0.0.1"
PASSWORD = "journey-password-1"
TILE_SIZE = 256
TILE_GREY = 0xDD  # a light grey: reads as "map background", not as a broken image


@dataclass(frozen=True)
class Account:
    """Credentials and names of a user registered through the UI."""

    username: str
    password: str
    first_name: str
    last_name: str


def path_is(path: str) -> re.Pattern[str]:
    """A URL pattern for `expect(page).to_have_url`: this path, any query string."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


def is_external(url: str) -> bool:
    """True for any request that does not go to the live server (map tiles, mostly)."""
    return urlsplit(url).hostname != APP_HOST


def block_external(page: Page) -> None:
    """Abort every request to another host: the tile server is unreachable here anyway,
    and aborting at once keeps the tests fast and deterministic."""
    page.route(is_external, lambda route: route.abort())


def grey_png(size: int = TILE_SIZE, grey: int = TILE_GREY) -> bytes:
    """A plain `size`x`size` 8-bit greyscale PNG, built by hand (no imaging dependency)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = (b"\x00" + bytes([grey]) * size) * size  # filter byte 0, then the pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def serve_grey_tiles(page: Page) -> None:
    """Answer every external request with a grey tile, so maps look like maps offline."""
    tile = grey_png()

    def fulfil(route: Route) -> None:
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=tile)
        else:
            route.abort()

    page.route(is_external, fulfil)


def register(
    page: Page, *, first_name: str = "Jo", last_name: str = "Rider", username: str | None = None
) -> Account:
    """Register a New York account through /register; it lands, logged in, on /vehicles."""
    account = Account(
        username=username or f"rider-{uuid.uuid4().hex[:10]}",
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name,
    )
    page.goto("/register")
    page.get_by_label("City").select_option("new york")
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Email").fill(f"{account.username}@example.com")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_label("Confirm password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(path_is("/vehicles"))
    return account


def log_in(page: Page, username: str, password: str) -> None:
    """Submit the login form (the caller checks where it lands)."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def add_vehicle(
    page: Page,
    *,
    brand: str,
    kind: str = "bike",
    color: str = "green",
    location: str = "Pier 1",
    at: tuple[float, float] | None = None,
) -> None:
    """Add a vehicle through /vehicles/add, placed by one click on the map (at its centre,
    or at pixel offset `at` inside it)."""
    page.goto("/vehicles")
    page.get_by_role("link", name="Add a vehicle").click()
    expect(page).to_have_url(path_is("/vehicles/add"))
    page.get_by_label("Type").select_option(kind)
    page.get_by_label("Color").fill(color)
    page.get_by_label("Brand").fill(brand)
    page.get_by_label("Location").fill(location)
    expect(page.locator("#map.leaflet-container")).to_be_visible()
    page.locator("#map").click(position=None if at is None else {"x": at[0], "y": at[1]})
    expect(page.locator("input[name=latitude]")).not_to_have_value("")
    expect(page.locator("input[name=longitude]")).not_to_have_value("")
    page.get_by_role("button", name="Add vehicle").click()
    expect(page).to_have_url(path_is("/vehicles"))


def start_ride(page: Page, brand: str) -> None:
    """Press "Start ride" in the vehicle table row of `brand`; it lands on /rides."""
    page.goto("/vehicles")
    row = page.get_by_role("row").filter(has_text=brand)
    row.get_by_role("button", name="Start ride").click()
    expect(page).to_have_url(path_is("/rides"))


def commit_vehicles(db: Database, *fleet: tuple[str, Position | None]) -> None:
    """Vehicles of someone else in New York, by brand, placed where given (else at the city's
    centre), straight into the committed database the live server reads."""

    def add(session: Session) -> None:
        owner = make_user(session, city="new york")
        for brand, where in fleet:
            make_vehicle(session, owner, position=where, brand=brand)

    run_in_transaction(db.sessions, add)


# What the phone tests measure in the page (scripts kept as files: plain JavaScript).
PROBES = Path(__file__).parent / "js"
LAYOUT_PROBLEMS = (PROBES / "layout_problems.js").read_text()
SMALL_TARGETS = (PROBES / "small_targets.js").read_text()
