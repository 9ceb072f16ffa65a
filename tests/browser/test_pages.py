"""Every page loads without script errors, failed requests or Content Security Policy
violations, and every answer of the app carries its Content-Security-Policy header."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response, expect

from tests.browser.support import (
    add_vehicle,
    block_external,
    is_external,
    log_in,
    path_is,
    register,
    start_ride,
)

pytestmark = pytest.mark.browser

CSP = "Content Security Policy"
# Injected before any page script. Playwright's init scripts are not subject to the page's
# CSP, so violations are reported even when the browser would only log them quietly.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective}`
    + ` blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@dataclass
class Problems:
    """What a page reported while the test visited it."""

    errors: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)

    def on_console(self, message: ConsoleMessage) -> None:
        source = message.location.get("url", "")
        if CSP in message.text:  # whatever its level
            self.errors.append(f"CSP ({message.type}) at {source}: {message.text}")
        elif message.type == "error" and not _blocked_tile(message.text, source):
            self.errors.append(f"console error at {source}: {message.text}")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught exception: {error.message}\n{error.stack}")

    def on_request_failed(self, request: Request) -> None:
        # ERR_ABORTED: a request cut short by the next navigation, not a failure of the app.
        if not is_external(request.url) and request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if not is_external(response.url):
            self.responses.append(response)

    def check_responses(self) -> None:
        """Headers are read here, not in the event handler (that would block the dispatcher)."""
        for response in self.responses:
            if response.status >= 400:
                self.errors.append(f"HTTP {response.status}: {response.url}")
            if response.header_value("content-security-policy") is None:
                self.errors.append(f"no Content-Security-Policy header: {response.url}")
        self.responses.clear()


def _blocked_tile(text: str, source: str) -> bool:
    """The map tiles we abort on purpose (their host is unreachable here anyway)."""
    return "net::ERR_FAILED" in text and is_external(source)


def visit(page: Page, problems: Problems, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(path_is(path))
    page.wait_for_load_state("networkidle")
    problems.check_responses()


def test_pages_have_no_console_errors_or_csp_violations(page: Page) -> None:
    block_external(page)
    problems = Problems()
    problems.watch(page)

    visit(page, problems, "/login")
    visit(page, problems, "/register")
    account = register(page)
    add_vehicle(page, brand="Console Scooters", kind="scooter")
    start_ride(page, "Console Scooters")  # /rides then shows a live duration
    page.get_by_role("button", name="Log out").click()
    log_in(page, account.username, account.password)
    expect(page).to_have_url(path_is("/vehicles"))
    page.wait_for_load_state("networkidle")
    problems.check_responses()

    for path in ("/vehicles", "/vehicles/add", "/rides", "/users"):
        visit(page, problems, path)
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()
    page.wait_for_load_state("networkidle")
    problems.check_responses()

    assert problems.errors == []
