"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from movr.config import Settings
from movr.db.engine import Database, create_database
from movr.services.passwords import PasswordHasher


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    hasher: PasswordHasher | None = None,
) -> Flask:
    """Build the app; tests pass their own database (bound to a rolled-back transaction)."""
    settings = settings or Settings.from_env()
    if database is None:
        if settings.database_url is None:
            raise RuntimeError("create_app needs DATABASE_URL (movr serve/demo provide one)")
        database = create_database(settings, settings.database_url)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key)
    app.extensions["movr"] = {
        "settings": settings,
        "database": database,
        "hasher": hasher or PasswordHasher(),
    }

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "region": settings.region}

    @app.get("/")
    def index() -> str:
        return f"MovR is running in region {settings.region}."

    return app
