"""Errors for people (friendly pages) and for programs (problem+json under /api/):
no stack traces, no SQL, the right status."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from movr.db.deadlines import DeadlineExceeded
from movr.db.transaction import TransactionRetriesExhausted, sqlstate_of
from movr.services.callers import UnknownCaller
from movr.services.errors import DomainError
from movr.web.api.auth import INVALID_TOKEN, CsrfRequired, Unauthenticated
from movr.web.api.openapi import RequestInvalid
from movr.web.api.problems import from_domain_error, problem, problem_response
from movr.web.ui.helpers import back_link

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That action is not possible here.",
    413: "That request is too large.",
    415: "That kind of content is not accepted here.",
    422: "Some of what you sent is not valid.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Please try again.",
    503: "MovR is busy or its database is unreachable. Please try again in a moment.",
}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="movr"'}
# Data errors that say the request's text cannot be stored: None is psycopg's own refusal of a
# NUL character (before sending), then string too long, character not in the encoding,
# untranslatable character. Other data errors (overflows, bad casts) are MovR's fault: 503.
INPUT_DATA_ERRORS = frozenset({None, "22001", "22021", "22P05"})
REFUSED = "That did not work"
TITLES = {403: "Forbidden", 404: "Not found", 429: "Slow down", 503: "Temporarily unavailable"}


def error_page(
    status: int,
    message: str | None = None,
    *,
    title: str | None = None,
    back: tuple[str, str] | None = None,
) -> tuple[str, int]:
    """Render the HTML error template for a status; `back` is a link (URL, label) to offer."""
    title = title or TITLES.get(status, "Error" if status >= 500 else REFUSED)
    url, label = back or (None, None)
    html = render_template(
        "error.html",
        status=status,
        title=title,
        message=message or MESSAGES.get(status, ""),
        back=url,
        back_label=label,
    )
    return html, status


def _wants_problem() -> bool:
    return request.path.startswith(API_PREFIX)


def _respond(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response | tuple[str, int]:
    if _wants_problem():
        detail = message or MESSAGES.get(status, "")
        return problem_response(problem(status, detail, code=code), headers)
    return error_page(status, message)


def _without_database() -> None:
    """Render the error page without loading the user: the database may be what failed."""
    if "_login_user" not in g:
        g._login_user = AnonymousUserMixin()


def install(app: Flask) -> None:
    """Register the handlers on the app (pages and API alike)."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        # Keep protocol headers such as Allow (405) and Retry-After (429).
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        code = "rate_limited" if status == 429 else None
        return _respond(status, code=code, headers=headers)

    @app.errorhandler(CSRFError)
    def csrf_error(_: CSRFError) -> Response | tuple[str, int]:
        return _respond(400, "Your form expired or was not sent from MovR. Reload and try again.")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response | tuple[str, int]:
        if _wants_problem():
            return problem_response(from_domain_error(error))
        # Every refusal reads the same, whatever its status (not "Not found" for a vehicle
        # retired meanwhile), and leads back to the page the action was sent from.
        return error_page(error.status, error.message, title=REFUSED, back=back_link())

    @app.errorhandler(RequestInvalid)
    def invalid_request(error: RequestInvalid) -> Response:
        return problem_response(error.problem)

    @app.errorhandler(Unauthenticated)
    def unauthenticated(error: Unauthenticated) -> Response | tuple[str, int]:
        return _respond(401, str(error), headers=CHALLENGE)

    @app.errorhandler(UnknownCaller)
    def unknown_caller(_: UnknownCaller) -> Response | tuple[str, int]:
        # A ride statement found the token dead or the account deleted (and changed nothing).
        message = INVALID_TOKEN if _wants_problem() else None
        return _respond(401, message, headers=CHALLENGE)

    @app.errorhandler(CsrfRequired)
    def csrf_required(error: CsrfRequired) -> Response | tuple[str, int]:
        return _respond(403, str(error), code="csrf_required")

    @app.errorhandler(TransactionRetriesExhausted)
    @app.errorhandler(DeadlineExceeded)
    def busy(error: Exception) -> Response | tuple[str, int]:
        log.warning("gave up: %s", error)
        _without_database()
        return _respond(503, headers={"Retry-After": "1"})

    @app.errorhandler(DataError)
    def refused_value(error: DataError) -> Response | tuple[str, int]:
        if sqlstate_of(error) not in INPUT_DATA_ERRORS:
            return database_error(error)
        # Text the database cannot store (the forms and schemas should have refused it
        # first): the request's fault, and nothing was written.
        log.warning("database refused a value: %s", type(error.orig).__name__)
        _without_database()
        return _respond(422)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError) -> Response | tuple[str, int]:
        # The type only: the message would carry SQL and parameters into the logs.
        log.error("database error: %s", type(error).__name__)
        _without_database()
        return _respond(503, headers={"Retry-After": "1"})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        return _respond(500)
