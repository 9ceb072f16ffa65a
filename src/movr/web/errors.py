"""Friendly error pages: no stack traces, no SQL, the right status."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from movr.db.transaction import TransactionRetriesExhausted
from movr.services.errors import DomainError

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That action is not possible here.",
    413: "That request is too large.",
    422: "Some of what you sent is not valid.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Please try again.",
    503: "MovR is busy or its database is unreachable. Please try again in a moment.",
}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """Render the error template for a status."""
    html = render_template(
        "error.html",
        status=status,
        title=_title(status),
        message=message or MESSAGES.get(status, ""),
    )
    return html, status


def _title(status: int) -> str:
    return {
        404: "Not found",
        403: "Forbidden",
        429: "Slow down",
        503: "Temporarily unavailable",
    }.get(status, "Error" if status >= 500 else "That did not work")


def install(app: Flask) -> None:
    """Register the handlers on the app (all blueprints)."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        return error_page(status)

    @app.errorhandler(CSRFError)
    def csrf_error(_: CSRFError) -> tuple[str, int]:
        return error_page(400, "Your form expired or was not sent from MovR. Reload and try again.")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int]:
        return error_page(error.status, error.message)

    @app.errorhandler(TransactionRetriesExhausted)
    def busy(error: TransactionRetriesExhausted) -> tuple[str, int]:
        log.warning("transaction gave up: %s", error)
        return error_page(503)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError) -> tuple[str, int]:
        log.exception("database error", exc_info=error)
        return error_page(503)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        return error_page(500)
