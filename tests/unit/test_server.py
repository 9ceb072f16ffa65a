"""gunicorn worker set-up (no server started)."""

from __future__ import annotations

import gc
import secrets

import pytest
from flask import Flask

from movr.config import Settings
from movr.web import server


def test_a_worker_freezes_its_long_lived_objects_out_of_the_collectors_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env({"SECRET_KEY": secrets.token_urlsafe(32)})
    monkeypatch.setattr(server, "create_app", lambda _settings: Flask("worker"))
    monkeypatch.setattr(server, "configure_logging", lambda _settings: None)
    monkeypatch.setattr(server, "count_active_rides", lambda _app: None)
    try:
        app = server.MovrServer(settings, {}).load()
        assert app.name == "worker"
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_workers_are_not_recycled_and_no_forwarded_header_is_trusted_by_default() -> None:
    # The README and docs/deploy.md say both; web/server.py says why workers live on.
    options = server.gunicorn_options(
        Settings.from_env({"SECRET_KEY": secrets.token_urlsafe(32)}), "h"
    )
    assert options.get("max_requests", 0) == 0
    assert options.get("max_requests_jitter", 0) == 0
    assert options["secure_scheme_headers"] == {}
    assert options["forwarded_allow_ips"] == ""
