"""One rider's whole life in the UI: register, log in, add a vehicle, ride it, leave."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.support import (
    add_vehicle,
    block_external,
    log_in,
    path_is,
    register,
    start_ride,
)

pytestmark = pytest.mark.browser

BRAND = "Journey Bikes"


def test_full_journey(page: Page) -> None:
    block_external(page)

    # Register in New York: logged in, on the vehicles of the city, served by the default region.
    account = register(page, first_name="Journey", last_name="Tester")
    badge = page.get_by_text("Served from")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("gcp-us-east1")

    # Log out (a POST form in the navigation bar), then log in again.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(path_is("/login"))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    log_in(page, account.username, account.password)
    expect(page).to_have_url(path_is("/vehicles"))

    # Add a vehicle placed by a click on the map: listed, and pinned on the map.
    add_vehicle(page, brand=BRAND)
    row = page.get_by_role("row").filter(has_text=BRAND)
    expect(row).to_have_count(1)
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(1)  # the only vehicle

    # Ride it: the active ride shows a duration that ticks.
    start_ride(page, BRAND)
    active = page.locator("[data-since]")
    expect(active).to_be_visible()
    first_reading = active.inner_text()
    expect(active).not_to_have_text(first_reading, timeout=3000)
    expect(page.get_by_role("button", name="End ride")).to_be_visible()

    # End it at Pier 17: it moves to the history, and nothing is active any more.
    page.get_by_label("End location").fill("Pier 17")
    page.get_by_role("button", name="End ride").click()
    expect(page).to_have_url(path_is("/rides"))
    expect(page.get_by_role("button", name="End ride")).to_have_count(0)
    expect(page.locator("[data-since]")).to_have_count(0)
    history = page.get_by_role("row").filter(has_text=BRAND)
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Pier 17")

    # The vehicle is available again.
    page.goto("/vehicles")
    expect(row.get_by_role("button", name="Start ride")).to_be_visible()

    # Delete the account from the profile, confirming the JS dialog.
    page.get_by_role("link", name="Profile").click()
    expect(page).to_have_url(re.compile(r"/users/[0-9a-f-]{36}$"))
    expect(page.locator("main")).to_contain_text(account.first_name)
    expect(page.locator("main")).to_contain_text(account.last_name)
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    # movr.js wires the confirmation at DOMContentLoaded: a click before that would submit
    # without asking (and the test would not see a dialog).
    page.wait_for_load_state("load")
    page.once("dialog", accept)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(path_is("/login"))
    assert len(dialogs) == 1
    assert dialogs[0].startswith("confirm: ")
    expect(page.get_by_role("alert").filter(has_text="deleted")).to_be_visible()

    # The old credentials no longer work.
    log_in(page, account.username, account.password)
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    expect(page).to_have_url(path_is("/login"))
