"""Full-page screenshots of the main pages for the documentation (docs/screenshots/).

Map tiles are answered with a plain grey tile generated here, so the maps look like maps
without network access. The files are rewritten on every run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import add_vehicle, path_is, register, serve_grey_tiles, start_ride

pytestmark = pytest.mark.browser

# `make screenshots` refreshes the committed pictures; ordinary runs write to a scratch folder,
# so that running the suite leaves the work tree unchanged.
SCREENSHOTS = Path(os.environ.get("MOVR_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="movr-shots-"))
PHONE = {"width": 360, "height": 740}


def save(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Let the map (if any) finish drawing its tiles, then save a PNG (of the whole page, or
    of what the screen shows)."""
    page.wait_for_load_state("networkidle")
    if page.locator("#map").count():
        expect(page.locator("#map.leaflet-container")).to_be_visible()
        expect(page.locator("#map .leaflet-tile").first).to_be_attached()
        expect(page.locator("#map .leaflet-tile:not(.leaflet-tile-loaded)")).to_have_count(0)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=target, full_page=full_page, animations="disabled")
    return target


def shoot(page: Page, path: str, name: str) -> Path:
    """Open `path` and save its screenshot as `name`.png."""
    page.goto(path)
    expect(page).to_have_url(path_is(path))
    return save(page, name)


def test_screenshots_of_the_main_pages(page: Page, browser: Browser, base_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    serve_grey_tiles(page)
    shots = [shoot(page, "/login", "login"), shoot(page, "/register", "register")]

    # A fixed username (the tables are emptied after each test) keeps the images stable.
    account = register(page, first_name="Ada", last_name="Lovelace", username="ada.lovelace")
    for brand, kind, color, location, at in [
        ("Hudson Wheels", "bike", "blue", "Pier 40", (200, 140)),
        ("Pier Scoot", "scooter", "red", "Battery Park", (420, 300)),
        ("Deck Co", "skateboard", "black", "Union Square", (560, 110)),
    ]:
        add_vehicle(page, brand=brand, kind=kind, color=color, location=location, at=at)
    shots.append(shoot(page, "/vehicles", "vehicles"))

    # The add form, filled in and placed on the map, not submitted.
    page.goto("/vehicles/add")
    page.get_by_label("Type").select_option("scooter")
    page.get_by_label("Color").fill("yellow")
    page.get_by_label("Brand").fill("Broadway Scooters")
    page.get_by_label("Location").fill("Union Square")
    page.locator("#map").click(position={"x": 180, "y": 150})
    expect(page.locator("input[name=latitude]")).not_to_have_value("")
    shots.append(save(page, "add-vehicle"))

    # One finished ride for the history, one active ride with its live duration.
    start_ride(page, "Hudson Wheels")
    page.get_by_label("End location").fill("Pier 17")
    page.get_by_role("button", name="End ride").click()
    expect(page.get_by_role("button", name="End ride")).to_have_count(0)
    start_ride(page, "Pier Scoot")
    expect(page.locator("[data-since]")).to_be_visible()
    shots.append(shoot(page, "/rides", "rides"))
    page.get_by_role("link", name="Profile").click()
    expect(page.locator("main")).to_contain_text(account.last_name)
    shots.append(shoot(page, urlsplit(page.url).path, "profile"))

    # At phone size, as a phone (touch, mobile viewport), in the same session: the cards under
    # the map, a pin's popup, the ride bar and its end form, the rides page.
    phone = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        storage_state=page.context.storage_state(),
    ).new_page()
    serve_grey_tiles(phone)
    shots.append(shoot(phone, "/vehicles", "vehicles-phone"))
    available = phone.locator("#vehicle-cards > li").filter(has_text="available").first
    available.get_by_role("link", name="Show on map").tap()
    expect(phone.locator(".leaflet-popup")).to_have_css("opacity", "1")
    expect(phone.locator(".leaflet-popup")).to_be_in_viewport(ratio=1)  # scrolled smoothly
    shots.append(save(phone, "vehicles-phone-popup", full_page=False))
    phone.evaluate("window.scrollTo(0, 0)")
    phone.locator("#ride-bar summary").tap()
    phone.get_by_label("Where are you leaving it?").fill("Pier 17")
    shots.append(save(phone, "ride-bar-phone", full_page=False))
    shots.append(shoot(phone, "/rides", "rides-phone"))
    phone.context.close()

    for shot in shots:
        assert shot.read_bytes().startswith(b"\x89PNG"), shot
