"""The README's API example, run for real against a live server."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.web.app import create_app
from tests.factories import make_user, make_vehicle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "api_walkthrough.py"


@pytest.fixture
def live_url(settings: Settings, clean_tables: Database, hasher: PasswordHasher) -> Iterator[str]:
    """The app served over real HTTP from a thread, on committed data."""
    server = make_server(
        "127.0.0.1", 0, create_app(settings, database=clean_tables, hasher=hasher), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert block is not None, "README.md lost its API example"
    assert block.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_runs_a_whole_journey(live_url: str, clean_tables: Database) -> None:
    run_in_transaction(clean_tables.sessions, lambda s: make_vehicle(s, make_user(s)))
    result = subprocess.run(  # noqa: S603 -- our own example script
        [sys.executable, str(EXAMPLE), live_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "riding the red Acme scooter" in result.stdout
    assert "ended at Town Hall" in result.stdout
    assert "1 ride(s) in the history" in result.stdout
    assert "account deleted: True" in result.stdout
