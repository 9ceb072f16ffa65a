"""gunicorn worker set-up (no server started)."""

from __future__ import annotations

import gc
import os
import secrets
import signal
import subprocess

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


def test_a_stop_signal_before_gunicorn_exists_is_passed_on_once_it_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SIGTERM lands while the child is being started: it must reach the child, not stop this
    # process (which would leave gunicorn running without anyone to stop it).
    def spawn_slowly(*_args: object, **_kwargs: object) -> subprocess.Popen[bytes]:
        os.kill(os.getpid(), signal.SIGTERM)
        return subprocess.Popen(["sleep", "30"])  # noqa: S607 -- a stand-in for gunicorn

    monkeypatch.setattr(server, "spawn", spawn_slowly)
    settings = Settings.from_env({"SECRET_KEY": secrets.token_urlsafe(32)}, development=True)
    assert server.launch(settings, "postgresql://unused", host="127.0.0.1") == -signal.SIGTERM
