"""Phone-first pages (issue 17) at 360 x 740 and 320 x 640, as a phone: `is_mobile`, touch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from movr.db.engine import Database
from movr.services.positions import Position
from tests.browser.support import (
    LAYOUT_PROBLEMS,
    SMALL_TARGETS,
    block_external,
    commit_vehicles,
    path_is,
    register,
)

pytestmark = pytest.mark.browser

PHONES = {"360x740": {"width": 360, "height": 740}, "320x640": {"width": 320, "height": 640}}
TOUCH_TARGET = 44  # px, WCAG 2.5.5


def phone_context(browser: Browser, base_url: str, size: str, **extra: Any) -> Page:
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONES[size],
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        **extra,
    )
    page = context.new_page()
    block_external(page)
    return page


@pytest.fixture(params=list(PHONES))
def phone(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a phone-sized, touch-enabled browser context."""
    page = phone_context(browser, base_url, request.param)
    yield page
    page.context.close()


def check_layout(page: Page, path: str, *, menu: bool = True) -> None:
    """No sideways scrolling, no control smaller than a fingertip (menu closed, then open)."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate(LAYOUT_PROBLEMS) == [], path
    assert page.evaluate(SMALL_TARGETS, TOUCH_TARGET) == [], path
    if not menu:
        return
    toggler = page.get_by_role("button", name="Toggle navigation")
    toggler.tap()
    expect(page.locator("#nav-main")).to_be_visible()
    page.locator("#nav-main.show:not(.collapsing)").wait_for()
    assert page.evaluate(LAYOUT_PROBLEMS) == [], f"{path} with the menu open"
    assert page.evaluate(SMALL_TARGETS, TOUCH_TARGET) == [], f"{path} with the menu open"


def inside_width(page: Page, target: Locator) -> None:
    """The whole of `target` lies within the viewport's width."""
    expect(target).to_be_visible()
    box = target.bounding_box()
    assert box is not None
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= width, (box, width)


def visit(page: Page, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(path_is(path))
    check_layout(page, path)


def tap_nav(page: Page, name: str) -> None:
    page.get_by_role("button", name="Toggle navigation").tap()
    page.locator("#nav-main").get_by_role("link", name=name, exact=True).tap()


def test_every_page_fits_a_phone_with_its_main_action_in_reach(
    phone: Page, committed_db: Database
) -> None:
    for path, action in (("/login", "Log in"), ("/register", "Create account")):
        visit(phone, path)
        inside_width(phone, phone.get_by_role("button", name=action, exact=True))
    visit(phone, "/no-such-page")
    visit(phone, "/api/v1/docs")

    account = register(phone)
    commit_vehicles(
        committed_db,
        ("Very-long-brand-name-without-any-spaces-at-all", Position(40.713, -74.005)),
        ("Pier Scooters", Position(40.70, -74.01)),
    )
    visit(phone, "/vehicles")
    cards = phone.locator("#vehicle-cards")
    inside_width(phone, cards.get_by_role("button", name="Start ride").first)
    expect(phone.locator("#vehicle-table")).to_be_hidden()  # the table is for wide screens
    visit(phone, "/vehicles/add")
    inside_width(phone, phone.get_by_role("button", name="Add vehicle"))
    visit(phone, "/users")

    # A finished ride for the history, then one in progress: its bar on every other page.
    phone.goto("/vehicles")
    cards.get_by_role("button", name="Start ride").first.tap()
    expect(phone).to_have_url(path_is("/rides"))
    phone.get_by_label("End location").fill("Pier 17")
    phone.get_by_role("button", name="End ride").tap()
    expect(phone.get_by_role("button", name="End ride")).to_have_count(0)
    phone.goto("/vehicles")
    phone.locator("#vehicle-cards").get_by_role("button", name="Start ride").first.tap()
    expect(phone).to_have_url(path_is("/rides"))
    visit(phone, "/rides")
    inside_width(phone, phone.get_by_role("button", name="End ride"))
    for path in ("/vehicles", "/vehicles/add", "/users", "/logout"):
        visit(phone, path)
        inside_width(phone, phone.locator("#ride-bar summary").get_by_text("End ride"))
    phone.locator("#ride-bar summary").tap()
    check_layout(phone, "/logout with the end form open", menu=False)
    inside_width(phone, phone.locator("#ride-bar").get_by_role("button", name="End ride"))
    tap_nav(phone, "Profile")
    expect(phone.locator("main")).to_contain_text(account.last_name)
    check_layout(phone, "profile")


def test_a_whole_journey_by_taps_at_phone_size(phone: Page) -> None:
    # Register, then add a vehicle placed by a tap on the map.
    register(phone, first_name="Tap", last_name="Rider")
    phone.get_by_role("link", name="Add a vehicle").tap()
    phone.get_by_label("Type").select_option("scooter")
    phone.get_by_label("Color").fill("orange")
    phone.get_by_label("Brand").fill("Thumb Scoot")
    phone.get_by_label("Location").fill("Bryant Park")
    expect(phone.locator("#map.leaflet-container")).to_be_visible()
    phone.locator("#map").tap()
    expect(phone.locator("input[name=latitude]")).not_to_have_value("")
    phone.get_by_role("button", name="Add vehicle").tap()
    expect(phone).to_have_url(path_is("/vehicles"))

    # Start from the map: the card centres its pin, the pin's popup has its own form.
    phone.locator("#vehicle-cards").get_by_role("link", name="Show on map").tap()
    popup = phone.locator(".leaflet-popup")
    expect(popup).to_contain_text("orange Thumb Scoot scooter")
    expect(popup).to_be_in_viewport(ratio=1)
    phone.locator(".leaflet-popup-close-button").tap()
    expect(popup).to_have_count(0)
    phone.locator("#map .leaflet-marker-icon").tap()
    expect(popup).to_contain_text("Bryant Park")
    expect(popup.locator("input[name=csrf_token]")).to_have_count(1)
    popup.get_by_role("button", name="Start ride").tap()
    expect(phone).to_have_url(path_is("/rides"))

    # End it from the ride bar on another page, with a typed location.
    tap_nav(phone, "Users")
    bar = phone.locator("#ride-bar")
    expect(bar).to_contain_text("Riding the orange Thumb Scoot scooter")
    bar.locator("summary").tap()
    bar.get_by_label("Where are you leaving it?").fill("Grand Central")
    bar.get_by_role("button", name="End ride").tap()
    expect(phone).to_have_url(path_is("/rides"))
    expect(phone.locator("#ride-bar")).to_have_count(0)

    # The history, as cards.
    tap_nav(phone, "Rides")
    history = phone.locator("main li.card").filter(has_text="Thumb Scoot")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Bryant Park → Grand Central")


NEAR_ME = {"latitude": 40.80, "longitude": -73.95}
FLEET = (
    ("Central", Position(40.7128, -74.006)),
    ("Harlem", Position(40.801, -73.951)),
    ("Battery", Position(40.70, -74.015)),
)


@pytest.mark.parametrize("size", list(PHONES))
def test_granted_geolocation_puts_the_nearest_vehicle_first(
    browser: Browser, base_url: str, committed_db: Database, size: str
) -> None:
    page = phone_context(browser, base_url, size, geolocation=NEAR_ME, permissions=["geolocation"])
    try:
        near_me = re.compile(r"/vehicles\?lat=40\.8000&lng=-73\.9500$")
        register(page)  # lands on /vehicles, which asks for the position and reloads with it
        expect(page).to_have_url(near_me)
        commit_vehicles(committed_db, *FLEET)
        page.goto("/vehicles")
        expect(page).to_have_url(near_me)
        first = page.locator("#vehicle-cards > li").first
        expect(first).to_contain_text("Harlem")
        expect(first).to_contain_text("m")  # its distance
        expect(page.get_by_text("Nearest to you first.")).to_be_visible()
    finally:
        page.context.close()


def test_without_geolocation_the_city_centre_orders_the_list(
    phone: Page, committed_db: Database
) -> None:
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(error.message))
    register(phone)
    commit_vehicles(committed_db, *FLEET)
    phone.goto("/vehicles")
    phone.get_by_role("button", name="Nearest to me").tap()  # denied: said so, no reload
    expect(phone.get_by_role("button", name="Your location is not available")).to_be_disabled()
    expect(phone).to_have_url(path_is("/vehicles"))
    assert "lat=" not in phone.url
    expect(phone.locator("#vehicle-cards > li").first).to_contain_text("Central")
    expect(phone.get_by_text("Nearest to the centre of New York first.")).to_be_visible()
    assert errors == []


def test_without_javascript_a_ride_starts_from_a_card_and_ends_from_the_bar(
    browser: Browser, base_url: str, committed_db: Database
) -> None:
    page = phone_context(browser, base_url, "360x740", java_script_enabled=False)
    try:
        register(page)
        commit_vehicles(committed_db, ("Plain Bikes", None))
        page.goto("/vehicles")
        cards = page.locator("#vehicle-cards")
        expect(cards.get_by_role("link", name="Show on map")).to_be_hidden()  # no map
        cards.get_by_role("button", name="Start ride").tap()
        expect(page).to_have_url(path_is("/rides"))
        page.goto("/users")
        page.locator("#ride-bar summary").tap()  # <details> opens without script
        page.get_by_label("Where are you leaving it?").fill("Pier 3")
        page.locator("#ride-bar").get_by_role("button", name="End ride").tap()
        expect(page).to_have_url(path_is("/rides"))
        expect(page.locator("main li.card").filter(has_text="Plain Bikes")).to_contain_text(
            "Pier 3"
        )
    finally:
        page.context.close()


def test_the_ride_bar_offers_the_browsers_position_to_end_a_ride(
    browser: Browser, base_url: str, committed_db: Database
) -> None:
    page = phone_context(
        browser, base_url, "360x740", geolocation=NEAR_ME, permissions=["geolocation"]
    )
    try:
        register(page)
        commit_vehicles(committed_db, ("Located Bikes", None))
        page.goto("/vehicles?lat=40.8&lng=-73.95")
        page.locator("#vehicle-cards").get_by_role("button", name="Start ride").tap()
        expect(page).to_have_url(path_is("/rides"))
        page.goto("/users")
        bar = page.locator("#ride-bar")
        bar.locator("summary").tap()
        bar.get_by_role("button", name="Use my position").tap()
        expect(bar.get_by_label("Where are you leaving it?")).to_have_value(
            "Near 40.8000, -73.9500"
        )
        expect(bar.locator("input[name=latitude]")).to_have_value("40.8000")
        bar.get_by_role("button", name="End ride").tap()
        expect(page).to_have_url(path_is("/rides"))
        ride = page.locator("main li.card").filter(has_text="Located Bikes")
        expect(ride).to_contain_text("Near 40.8000, -73.9500")
    finally:
        page.context.close()
