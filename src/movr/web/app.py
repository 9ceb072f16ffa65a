"""The Flask application factory."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from movr import __version__
from movr.config import Settings
from movr.db.engine import Database, create_database
from movr.services.passwords import PasswordHasher, password_hasher
from movr.web import api, auth, consistency, errors, metrics, observability, security, ui
from movr.web.runtime import EXTENSION_KEY, Runtime, count_statements

csrf = CSRFProtect()


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
    app = Flask(__name__, static_folder=None)
    app.config.update(SECRET_KEY=settings.secret_key)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.extensions[EXTENSION_KEY] = Runtime(
        settings=settings,
        database=database,
        hasher=hasher or password_hasher(),
        listener=metrics.MetricsListener(settings.region),
    )
    database.reads.listener = metrics.ReadMetrics(settings.region)
    if settings.check_units:
        count_statements(database.pooled)
    metrics.instrument_pool(database.pooled, settings.region)
    metrics.publish_zeroes(settings.region)
    observability.install(app, settings)
    security.install(app, settings)
    csrf.init_app(app)
    auth.install(app)
    errors.install(app)
    consistency.install(app)
    app.register_blueprint(ui.create_blueprint())
    api_blueprint = api.create_blueprint()
    app.register_blueprint(api_blueprint)
    csrf.exempt(api_blueprint)  # the API checks CSRF itself, only for cookie-authenticated calls

    @app.context_processor
    def layout_values() -> dict[str, object]:
        return {
            "settings": settings,
            "version": __version__,
            "read_only": database.reads.primary_unreachable(),
        }

    return app
