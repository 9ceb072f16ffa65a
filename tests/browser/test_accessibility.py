"""Accessibility: axe-core's WCAG 2.2 A/AA rules find nothing on any page, logged in and out, at
desktop and phone widths; and a rider gets through the app with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect

from movr.db.engine import Database
from movr.services.positions import Position
from tests.browser.support import PASSWORD, block_external, commit_vehicles, path_is, register

pytestmark = pytest.mark.browser

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(params=list(SCREENS))
def screen(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page at desktop or phone size."""
    # Reduced motion: Bootstrap then drops its colour transitions, which axe could otherwise
    # catch half-way (a button still fading from its hover colour after a click).
    context = browser.new_context(
        base_url=base_url, reduced_motion="reduce", **SCREENS[request.param]
    )
    page = context.new_page()
    block_external(page)
    yield page
    context.close()


def violations(page: Page) -> list[str]:
    """axe's WCAG 2.2 A/AA violations on the page as it is now, one line per element."""
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)  # hover colours are not what the page looks like
    options: dict[str, Any] = {"runOnly": {"type": "tag", "values": WCAG_22_AA}}
    results = Axe().run(page, options=options).response
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {node['target']}: {node['failureSummary']}"
        for v in results["violations"]
        for node in v["nodes"]
    ]


def audit(page: Page, path: str) -> list[str]:
    page.goto(path)
    expect(page).to_have_url(path_is(path))
    return violations(page)


def test_axe_finds_no_violation_on_any_page(screen: Page, committed_db: Database) -> None:
    found = [*audit(screen, "/login"), *audit(screen, "/register"), *audit(screen, "/nowhere")]
    found += audit(screen, "/api/v1/docs")
    screen.goto("/login")
    screen.get_by_role("button", name="Log in", exact=True).click()  # with field errors
    found += violations(screen)

    register(screen)
    found += audit(screen, "/rides")  # no rides yet
    commit_vehicles(
        committed_db,
        ("Axe Bikes", Position(40.715, -74.0)),
        ("Axe Scooters", Position(40.705, -74.015)),
    )
    for path in ("/vehicles", "/vehicles/add", "/users", "/logout"):
        found += audit(screen, path)
    screen.goto("/vehicles")
    screen.locator("#map .leaflet-marker-icon").first.click()  # a popup open
    expect(screen.locator(".leaflet-popup")).to_be_visible()
    # Leaflet fades popups in: colours measured mid-fade would be wrong.
    expect(screen.locator(".leaflet-popup")).to_have_css("opacity", "1")
    found += violations(screen)
    profile = screen.locator("#nav-main a", has_text="Profile").get_attribute("href")
    assert profile is not None
    found += audit(screen, profile)

    # A finished ride, then one in progress: the end form, the history, the ride bar.
    start_first_vehicle(screen)
    found += violations(screen)
    screen.get_by_label("End location").fill("Pier 17")
    screen.get_by_role("button", name="End ride").click()
    expect(screen.get_by_role("button", name="End ride")).to_have_count(0)
    found += violations(screen)
    start_first_vehicle(screen)
    found += violations(screen)
    for path in ("/vehicles", "/vehicles/add", "/users", profile):
        found += audit(screen, path)
    screen.locator("#ride-bar summary").click()  # the bar's end form open
    expect(screen.locator("#bar-location")).to_be_visible()
    found += violations(screen)
    assert found == []


def start_first_vehicle(page: Page) -> None:
    page.goto("/vehicles")
    page.get_by_role("button", name="Start ride").first.click()
    expect(page).to_have_url(path_is("/rides"))


FOCUS_SHOWN = """el => {
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return el === document.activeElement && (outline || style.boxShadow !== "none");
}"""


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, and check that the focus can be seen."""
    element = target.first
    for _ in range(limit):
        page.keyboard.press("Tab")
        if element.evaluate("el => el === document.activeElement"):
            assert element.evaluate(FOCUS_SHOWN), f"no visible focus on {element}"
            return
    pytest.fail(f"{target} not reached with {limit} presses of Tab")


def key_in(page: Page, fields: dict[str, str]) -> None:
    """Tab to each labelled field in turn and type into it."""
    for label, text in fields.items():
        tab_to(page, page.get_by_label(label, exact=True))
        page.keyboard.type(text)


def press(page: Page, target: Locator, lands_on: str | None = None) -> None:
    """Tab to `target` and press Enter (then check the page it leads to)."""
    tab_to(page, target)
    page.keyboard.press("Enter")
    if lands_on is not None:
        expect(page).to_have_url(path_is(lands_on))


def test_a_rider_gets_through_with_the_keyboard_alone(page: Page) -> None:
    block_external(page)
    page.goto("/register")
    tab_to(page, page.get_by_role("link", name="Skip to content"))
    key_in(page, {"City": "New York", "First name": "Kay", "Last name": "Board"})
    expect(page.get_by_label("City")).to_have_value("new york")
    key_in(page, {"Email": "kay@example.com", "Username": "kay.board"})
    key_in(page, {"Password": PASSWORD, "Confirm password": PASSWORD})
    press(page, page.get_by_role("button", name="Create account"), "/vehicles")

    # Add a vehicle (no map click: it is placed at the city's centre).
    press(page, page.get_by_role("link", name="Add a vehicle"), "/vehicles/add")
    key_in(page, {"Type": "Bike", "Color": "blue", "Brand": "Keyboard Cycles"})
    key_in(page, {"Location": "Pier 9"})
    press(page, page.get_by_role("button", name="Add vehicle"), "/vehicles")

    # Start a ride, come back to the vehicles, end it from the ride bar.
    press(page, page.get_by_role("button", name="Start ride"), "/rides")
    press(page, page.get_by_role("link", name="Vehicles"), "/vehicles")
    press(page, page.locator("#ride-bar summary"))
    key_in(page, {"Where are you leaving it?": "Pier 11"})
    press(page, page.locator("#ride-bar").get_by_role("button", name="End ride"), "/rides")
    expect(page.get_by_role("row").filter(has_text="Keyboard Cycles")).to_contain_text("Pier 11")

    press(page, page.get_by_role("button", name="Log out"), "/login")
