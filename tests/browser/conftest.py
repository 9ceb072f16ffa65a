"""Browser tests: Debian's Chromium, driven by Playwright, against a live MovR server.

The server runs in a thread of the test process, on the committed test database; every
test empties the tables afterwards (`clean_tables`), so the tests may commit freely.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from movr.db.engine import Database
from movr.web.app import create_app
from tests.conftest import make_settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Launch Debian's Chromium (Playwright cannot download its own browser here)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install chromium, as .ci/run does); never `playwright install`.",
            pytrace=False,
        )
    return {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _closed_before_sending(app: WSGIApplication) -> WSGIApplication:
    """Read each response whole and close it before the server writes it to the socket.

    When Chromium drops a connection mid-response (a navigation cancels the page's pending
    static files), werkzeug's development server raises from its own clean-up before it
    calls the response's `close()`, so the open static file is only closed by the garbage
    collector: a ResourceWarning, which `filterwarnings = error` turns into a random test
    failure. Responses here are small pages and static files, so buffering costs nothing.
    """

    def buffered(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return [body]

    return buffered


@pytest.fixture(scope="session")
def live_server(committed_db: Database, hasher: PasswordHasher) -> Iterator[str]:
    """MovR served over real HTTP on a free port; yields its base URL."""
    app = create_app(make_settings(), database=committed_db, hasher=hasher)
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="movr-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base URL: `page.goto("/login")` goes to the live server."""
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Desktop viewport (the size of the screenshots in docs/screenshots)."""
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(autouse=True)
def _empty_tables_after_test(clean_tables: Database) -> Database:
    """Browser tests commit through the live server: empty every table after each test.

    Autouse, so it is set up before `page` and torn down after it: the browser is closed
    before the tables are truncated.
    """
    return clean_tables
